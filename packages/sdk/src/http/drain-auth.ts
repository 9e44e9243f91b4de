/**
 * Who may call `/drain`. A drain takes the worker out of service, so it is the one admin route
 * that needs authorisation (a bearer token, `QUIESCE_DRAIN_TOKEN`).
 *
 * - Loopback callers are trusted: the kubelet's preStop `exec` runs inside the pod and an in-pod
 *   CLI reaches us over 127.0.0.1. (A service-mesh sidecar also forwards from loopback; a mesh
 *   deployment that exposes the admin port should set a token and keep the port off the mesh.)
 * - Anyone else needs `Authorization: Bearer <QUIESCE_DRAIN_TOKEN>`. The kubelet's preStop
 *   `httpGet` comes from the node, not loopback, and can send that header.
 * - With no token configured, non-loopback callers are refused outright (403): asking for
 *   credentials (401) when none could ever be right would only invite guessing.
 */
import { BlockList, isIPv4 } from "node:net";

export type DrainAuthResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401 | 403; readonly reason: string; readonly wwwAuthenticate?: string };

// BlockList also matches IPv4-mapped IPv6 forms (::ffff:127.0.0.1, ::ffff:7f00:1) against the IPv4
// rule and every spelling of ::1, which string prefixes would miss.
const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Whether a socket's remote address is a loopback address. Unknown (a closed socket) is not. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined || address === "") return false;
  try {
    return loopback.check(address, isIPv4(address) ? "ipv4" : "ipv6");
  } catch {
    // Not an IP address at all (a unix socket path): never trusted.
    return false;
  }
}

/**
 * Compare a presented token with the configured one in time independent of where they differ
 * and of their lengths: both sides are hashed to 32 bytes first, because timingSafeEqual itself
 * throws on a length mismatch and an early length check would leak the token's length.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  // Loaded at the first token check: importing node:crypto costs tens of ms at start-up, and
  // most workers only ever see loopback drains.
  const { createHash, timingSafeEqual } = process.getBuiltinModule("node:crypto");
  const a = createHash("sha256").update(presented, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b);
}

// RFC 6750 §2.1: the scheme is case-insensitive; the token is one run of non-space characters.
const bearerPattern = /^bearer[ \t]+(\S+)[ \t]*$/i;

/** The token of an `Authorization: Bearer …` header, or undefined when absent or another scheme. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : bearerPattern.exec(authorization)?.[1];
}

const realm = 'Bearer realm="quiesce"';

/**
 * Decide a `/drain` request. `token` is the configured `QUIESCE_DRAIN_TOKEN`; an empty string
 * counts as none, so a blank variable can never be matched by a blank header.
 */
export function authorizeDrain(
  remoteAddress: string | undefined,
  authorization: string | undefined,
  token: string | null,
): DrainAuthResult {
  if (isLoopback(remoteAddress)) return { ok: true };
  if (token === null || token === "") {
    return { ok: false, status: 403, reason: "/drain from a non-loopback address needs QUIESCE_DRAIN_TOKEN to be set" };
  }
  const presented = bearerToken(authorization);
  if (presented === undefined) {
    return { ok: false, status: 401, reason: "/drain needs Authorization: Bearer <token>", wwwAuthenticate: realm };
  }
  if (!tokensEqual(presented, token)) {
    // RFC 6750 §3.1: a token was sent but is not the right one.
    return { ok: false, status: 401, reason: "/drain token is not valid", wwwAuthenticate: `${realm}, error="invalid_token"` };
  }
  return { ok: true };
}
