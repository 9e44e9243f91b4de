import type { ConsumeMessage, Options } from "amqplib";
import { coerceError } from "@quiesce/sdk";
import { decodeJson, type AmqpMessageInfo } from "./options.js";

/**
 * The attempt a message is on, carried by the message itself: classic queues count nothing, so
 * a failure under the limit republishes the message with this raised. Releases (nack with
 * requeue) leave it alone, so a drain or a deadline costs no attempt.
 */
export const attemptHeader = "x-quiesce-attempt";

/**
 * The checkpoint a released message carries: a message cannot change in place, so a release of a
 * job that checkpointed re-publishes it with this header (confirmed) before acking the original.
 */
export const checkpointHeader = "x-quiesce-checkpoint";

/**
 * Largest checkpoint a message carries, in bytes. A content header frame cannot be split: all the
 * properties must fit in one frame of the negotiated frame_max (128 KiB by default, 4 KiB at the
 * least), and a frame over it makes the broker close the whole connection. amqplib also encodes a
 * header table into a 64 KiB buffer. Half the frame, at most 32 KiB, leaves the rest to the
 * producer's own headers; a checkpoint is a cursor, and bigger state belongs in a store.
 */
export function checkpointBound(frameMax: number): number {
  return Math.min(32 * 1024, Math.floor(frameMax / 2));
}

/** What one consumed message says about itself. */
export interface MessageFacts {
  readonly id: string;
  readonly attempt: number;
  /** Quorum queues: how many times the broker handed this message out before (returns, lost consumers). */
  readonly deliveryCount: number | undefined;
  readonly payload: unknown;
  readonly decodeError: Error | undefined;
  /** What a release carried over from the previous delivery. */
  readonly checkpoint: string | undefined;
}

export function readMessage(message: ConsumeMessage, queue: string, fallbackId: () => string, decode: (content: Buffer, info: AmqpMessageInfo) => unknown): MessageFacts {
  const { properties } = message;
  const headers = (properties.headers ?? {}) as Record<string, unknown>;
  const id = typeof properties.messageId === "string" && properties.messageId.length > 0 ? properties.messageId : fallbackId();
  const attempt = positiveInteger(headers[attemptHeader]) ?? 1;
  const deliveryCount = positiveInteger(headers["x-delivery-count"]);
  let payload: unknown;
  let decodeError: Error | undefined;
  try {
    // The default decoder reads the body only: no info object per message for it.
    payload = decode === decodeJson ? decodeJson(message.content) : decode(message.content, { contentType: properties.contentType as string | undefined, contentEncoding: properties.contentEncoding as string | undefined, headers });
  } catch (thrown) {
    const reason = thrown instanceof SyntaxError ? `its body is not valid JSON (${thrown.message})` : `decode threw: ${coerceError(thrown).message}`;
    decodeError = new Error(`RabbitMQ message ${id} on queue "${queue}" cannot be decoded: ${reason}; dead-lettered without running the handler`, { cause: thrown });
  }
  const carried = headers[checkpointHeader];
  const checkpoint = typeof carried === "string" ? carried : Buffer.isBuffer(carried) ? carried.toString("utf8") : undefined;
  return { id, attempt, deliveryCount, payload, decodeError, checkpoint };
}

/**
 * The properties of the retry copy: the attempt raised, and no checkpoint (a retry after a failure
 * starts from zero: what a failed attempt stored may be what made it fail).
 */
export function retryProperties(message: ConsumeMessage, id: string, attempt: number): Options.Publish {
  const options = copyProperties(message, id);
  const headers = options.headers as Record<string, unknown>;
  delete headers[checkpointHeader];
  headers[attemptHeader] = attempt;
  return options;
}

/** The properties of a released copy: the checkpoint set, the attempt left as it was (a release uses none). */
export function releaseProperties(message: ConsumeMessage, id: string, checkpoint: string): Options.Publish {
  const options = copyProperties(message, id);
  (options.headers as Record<string, unknown>)[checkpointHeader] = checkpoint;
  return options;
}

/**
 * Everything the producer set, and the id made explicit (so every copy has the same one: the
 * checkpoint store's key). The broker's own headers describe the old copy's deliveries and would
 * mislead on the new one; `userId` is left out because the broker refuses a publish whose userId
 * is not the publishing connection's user.
 */
function copyProperties(message: ConsumeMessage, id: string): Options.Publish {
  const p = message.properties;
  const headers: Record<string, unknown> = { ...(p.headers as Record<string, unknown> | undefined) };
  delete headers["x-delivery-count"];
  delete headers["x-death"];
  delete headers["x-first-death-exchange"];
  delete headers["x-first-death-queue"];
  delete headers["x-first-death-reason"];
  const options: Options.Publish = { headers, messageId: id, persistent: p.deliveryMode === 2 };
  if (p.contentType !== undefined) options.contentType = p.contentType as string;
  if (p.contentEncoding !== undefined) options.contentEncoding = p.contentEncoding as string;
  if (p.correlationId !== undefined) options.correlationId = p.correlationId as string;
  if (p.replyTo !== undefined) options.replyTo = p.replyTo as string;
  if (p.expiration !== undefined) options.expiration = p.expiration as string;
  if (p.timestamp !== undefined) options.timestamp = p.timestamp as number;
  if (p.type !== undefined) options.type = p.type as string;
  if (p.appId !== undefined) options.appId = p.appId as string;
  if (p.priority !== undefined) options.priority = p.priority as number;
  return options;
}

/**
 * At least the bytes amqplib encodes a header table into (field tag, 8 bytes for any number), so
 * a copy that might not fit in one frame is never sent: the broker would close the connection.
 */
export function tableBytes(table: Readonly<Record<string, unknown>>): number {
  let bytes = 4;
  for (const [key, value] of Object.entries(table)) if (value !== undefined) bytes += 1 + Buffer.byteLength(key) + fieldBytes(value);
  return bytes;
}

function fieldBytes(value: unknown): number {
  if (typeof value === "string") return 5 + Buffer.byteLength(value);
  if (typeof value === "boolean") return 2;
  if (value === null || value === undefined) return 1;
  if (Buffer.isBuffer(value)) return 5 + value.length;
  if (Array.isArray(value)) return 5 + value.reduce((sum: number, item: unknown) => sum + fieldBytes(item), 0);
  if (typeof value === "object" && !(value instanceof Date)) {
    // amqplib's typed value ({ "!": type, value }): no more than its value as we would guess it.
    if (Object.hasOwn(value, "!")) return 1 + fieldBytes((value as { value?: unknown }).value);
    return 1 + tableBytes(value as Record<string, unknown>);
  }
  return 9;
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : typeof value === "string" ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}
