/** The topic-name helpers live beside the bus (src/bus/topics.ts); kept here for callers of the old path. */
export { prefixedTopics, topicCompression } from '../bus/topics.ts';
