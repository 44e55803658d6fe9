/**
 * @wskit/protocol: the wire protocol both sides speak. Frames, actions, error codes,
 * limits, the topic and identity grammar, and the topic policy. No dependencies, no I/O,
 * runs in Node and in browsers; every other wskit part imports it.
 */
export * from './codes';
export * from './limits';
export * from './topics';
export * from './policy';
export * from './frames';
export * from './http';
export { PROTOCOL_VERSION, protocolSpec } from './spec';
