/**
 * When to renew: at half the lease (room for one failed or slow renewal before it lapses), checked
 * four times a lease so a renewal is never later than three quarters of it.
 */
export function renewAfterMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 2));
}

export function tickIntervalMs(leaseMs: number): number {
  return Math.min(5000, Math.max(20, Math.floor(leaseMs / 4)));
}

export function isDue(now: number, renewedAt: number, leaseMs: number): boolean {
  return now - renewedAt >= renewAfterMs(leaseMs);
}
