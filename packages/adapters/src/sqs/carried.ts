import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";

/**
 * What a re-sent copy carries about the message it replaces, in message attributes: an SQS message
 * cannot change in place, and a copy gets a new MessageId and a receive count from zero.
 * - `quiesce.id`: the first copy's MessageId, so `delivery.id` (and a checkpoint store's key)
 *   stays the same across re-sends;
 * - `quiesce.attempt`: the attempt the copy's first receive is on (the receive count restarts);
 * - `quiesce.checkpoint`: the checkpoint a release carried over.
 */
export const carriedNames = { id: "quiesce.id", attempt: "quiesce.attempt", checkpoint: "quiesce.checkpoint" } as const;

/** SQS counts body, attribute names, types and values against this (256 KiB). */
const maxMessageBytes = 262_144;
/** What our own attributes beside the checkpoint take at most: names, types, an id and a number. */
const carriedOverheadBytes = 512;
/** A checkpoint is a cursor: bigger state belongs in a store, and every receive transfers it. */
const maxCheckpointBytes = 64 * 1024;
/** SQS allows 10 message attributes. */
const maxAttributes = 10;

export interface CarriedFacts {
  readonly id: string | undefined;
  readonly attempt: number | undefined;
  readonly checkpoint: string | undefined;
  /** The producer's attributes, without ours: what a copy keeps. */
  readonly own: Record<string, MessageAttributeValue>;
  /** The largest checkpoint a copy of this message can carry. */
  readonly checkpointMaxBytes: number;
}

export function readCarried(message: Message): CarriedFacts {
  const all = message.MessageAttributes ?? {};
  const own: Record<string, MessageAttributeValue> = {};
  let ownBytes = 0;
  for (const [name, value] of Object.entries(all)) {
    if (name.startsWith("quiesce.")) continue;
    own[name] = value;
    ownBytes += attributeBytes(name, value);
  }
  const text = (name: string): string | undefined => {
    const value = all[name]?.StringValue;
    return typeof value === "string" && value.length > 0 ? value : undefined;
  };
  const attempt = Number(text(carriedNames.attempt));
  const room = maxMessageBytes - Buffer.byteLength(message.Body ?? "") - ownBytes - carriedOverheadBytes;
  return {
    id: text(carriedNames.id),
    attempt: Number.isSafeInteger(attempt) && attempt >= 1 ? attempt : undefined,
    checkpoint: text(carriedNames.checkpoint),
    own,
    checkpointMaxBytes: Math.max(0, Math.min(maxCheckpointBytes, room)),
  };
}

/** The attributes of a copy, or null when SQS's limit of 10 leaves no room for ours. */
export function copyAttributes(own: Record<string, MessageAttributeValue>, carried: { id: string; attempt: number; checkpoint: string | undefined }): Record<string, MessageAttributeValue> | null {
  const attributes: Record<string, MessageAttributeValue> = { ...own, [carriedNames.id]: { DataType: "String", StringValue: carried.id } };
  // Left out at 1, the default: one attribute fewer against the limit.
  if (carried.attempt > 1) attributes[carriedNames.attempt] = { DataType: "Number", StringValue: String(carried.attempt) };
  if (carried.checkpoint !== undefined) attributes[carriedNames.checkpoint] = { DataType: "String", StringValue: carried.checkpoint };
  return Object.keys(attributes).length <= maxAttributes ? attributes : null;
}

function attributeBytes(name: string, value: MessageAttributeValue): number {
  const data = value.StringValue !== undefined ? Buffer.byteLength(value.StringValue) : (value.BinaryValue?.byteLength ?? 0);
  return Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? "") + data;
}
