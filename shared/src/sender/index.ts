export * from './types';
export { classifySendError, type ErrorClass } from './classify';
export { AimdLimiter, Pace, fanOutMetricValues } from './fan-out';
export { destroyManagementClients } from './management';
export { MessageSender, payloadBytes } from './message-sender';
export * from './signed-post';
