export type { Source, Delivery, QueueDepth, ReleaseOptions } from "./source/source.js";
