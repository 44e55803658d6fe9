export * from './errors';
export * from './limits';
export * from './logger';
export * from './config';
export * from './protocol';
export * from './policy';
export * from './store';
export * from './sender';
export { documentClient, toDocumentClient, type DocumentClient, type ManagementClient } from './aws';
