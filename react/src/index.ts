/**
 * @wskit/react: React bindings for @wskit/client.
 *
 *   <WskitProvider options={{ url, token }}>      // or client={client}
 *     const { data, messages, status } = useTopic('stock:AAPL', { limit: 60, replay: 60 });
 *     const { state } = useConnectionState();
 *     const publish = usePublish('room:42');
 */
export { WskitProvider, type WskitProviderProps } from './provider';
export {
  useClient,
  useClientEvent,
  useConnectionState,
  usePublish,
  useTopic,
  type Publish,
  type PublishTo,
  type TopicState,
  type UseTopicOptions,
} from './hooks';
export type { ConnectionSnapshot, ConnectionStatus, TopicMessage, TopicSnapshot, TopicStatus } from './store';
