//! Per-host request rate limits (token buckets).
//!
//! Many services publish quotas (VirusTotal's public API: 4 requests a minute; Defender:
//! 45 a minute). A client with a [`RateLimit`] keeps one bucket per host: it holds up
//! to `burst` tokens, refills at `requests` per `per`, and each request takes one. A
//! request finding the bucket empty reserves the next token and sleeps until it is
//! due, so concurrent requests queue in order instead of all waking at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// At most `requests` per `per` to one host, with bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    requests: u32,
    per: Duration,
    burst: u32,
}

impl RateLimit {
    /// `requests` per `per`, allowing a burst of the same size. Zero requests or a
    /// zero period are taken as one.
    pub fn new(requests: u32, per: Duration) -> RateLimit {
        let requests = requests.max(1);
        RateLimit {
            requests,
            per: per.max(Duration::from_millis(1)),
            burst: requests,
        }
    }

    /// Allow at most `burst` requests back to back (at least one).
    pub fn with_burst(self, burst: u32) -> RateLimit {
        RateLimit {
            burst: burst.max(1),
            ..self
        }
    }

    fn per_token(&self) -> Duration {
        self.per / self.requests
    }
}

/// The buckets of one client, one per host.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    /// Tokens available at `at`; negative when requests are already waiting.
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Wait until a request to `host` is within the limit.
    pub(crate) async fn acquire(&self, host: &str) {
        let wait = self.reserve(host, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Take a token for `host` at `now`, returning how long to wait for it.
    fn reserve(&self, host: &str, now: Instant) -> Duration {
        let per_token = self.limit.per_token().as_secs_f64();
        let burst = f64::from(self.limit.burst);
        // A poisoned lock only means another request panicked mid-update; the
        // numbers are still usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(host.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled = now.saturating_duration_since(bucket.at).as_secs_f64() / per_token;
        bucket.tokens = (bucket.tokens + refilled).min(burst) - 1.0;
        bucket.at = now;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens * per_token)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_per_interval() {
        let limiter = RateLimiter::new(RateLimit::new(2, Duration::from_secs(1)));
        let t0 = Instant::now();
        assert_eq!(limiter.reserve("a", t0), Duration::ZERO);
        assert_eq!(limiter.reserve("a", t0), Duration::ZERO);
        assert_eq!(limiter.reserve("a", t0), Duration::from_millis(500));
        assert_eq!(limiter.reserve("a", t0), Duration::from_millis(1000));
        // Another host has its own bucket.
        assert_eq!(limiter.reserve("b", t0), Duration::ZERO);
        // After a long pause the bucket is full again, but no fuller than the burst.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(limiter.reserve("a", later), Duration::ZERO);
        assert_eq!(limiter.reserve("a", later), Duration::ZERO);
        assert_eq!(limiter.reserve("a", later), Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_sleeps_until_the_token_is_due() {
        let limiter = RateLimiter::new(RateLimit::new(4, Duration::from_secs(60)).with_burst(1));
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire("vt.example").await;
        }
        // One at once, then one every 15 s.
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    }
}
