import { describe, expect, it } from "vitest";
import { authorizeDrain, bearerToken, isLoopback, tokensEqual } from "../../src/http/drain-auth.js";

describe("isLoopback", () => {
  it.each(["127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::FFFF:127.1.2.3", "::ffff:7f00:1"])(
    "%s is loopback",
    (address) => expect(isLoopback(address)).toBe(true),
  );

  it.each(["128.0.0.1", "10.0.0.1", "0.0.0.0", "::", "::2", "::ffff:10.0.0.1", "fe80::1", "", "/tmp/admin.sock", "localhost", undefined])(
    "%s is not loopback",
    (address) => expect(isLoopback(address)).toBe(false),
  );
});

describe("tokensEqual", () => {
  it("compares tokens of different lengths without throwing", () => {
    // crypto.timingSafeEqual itself throws RangeError on a length mismatch.
    expect(() => tokensEqual("a", "a-much-longer-token")).not.toThrow();
    expect(tokensEqual("a", "a-much-longer-token")).toBe(false);
    expect(tokensEqual("a-much-longer-token", "a")).toBe(false);
    expect(tokensEqual("", "x")).toBe(false);
  });

  it("matches only the identical token", () => {
    expect(tokensEqual("s3cret", "s3cret")).toBe(true);
    expect(tokensEqual("s3cret", "s3creT")).toBe(false);
    expect(tokensEqual("s3cret", "s3cret ")).toBe(false);
    expect(tokensEqual("héllo", "héllo")).toBe(true);
  });
});

describe("bearerToken", () => {
  it.each([
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["BEARER   abc  ", "abc"],
    ["Bearer", undefined],
    ["Bearer ", undefined],
    ["Bearer a b", undefined],
    ["Basic abc", undefined],
    ["Bearerabc", undefined],
    [undefined, undefined],
  ])("%j → %j", (header, token) => expect(bearerToken(header)).toBe(token));
});

describe("authorizeDrain", () => {
  it("refuses non-loopback with 403 when no token is configured, and says why", () => {
    const result = authorizeDrain("10.0.0.5", "Bearer guess", null);
    expect(result).toMatchObject({ ok: false, status: 403 });
    expect(result.ok ? "" : result.reason).toContain("QUIESCE_DRAIN_TOKEN");
  });

  it("asks for credentials with 401 when a token is configured", () => {
    expect(authorizeDrain("10.0.0.5", undefined, "t")).toMatchObject({ ok: false, status: 401, wwwAuthenticate: 'Bearer realm="quiesce"' });
    expect(authorizeDrain("10.0.0.5", "Bearer u", "t")).toMatchObject({ ok: false, status: 401 });
    expect(authorizeDrain("10.0.0.5", "Bearer t", "t")).toEqual({ ok: true });
  });

  it("trusts loopback callers whatever they send", () => {
    expect(authorizeDrain("127.0.0.1", undefined, null)).toEqual({ ok: true });
    expect(authorizeDrain("::1", "Bearer wrong", "t")).toEqual({ ok: true });
  });
});
