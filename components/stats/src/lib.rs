//! `airlock:stats/stats`: descriptive statistics over lists of `f64`.
//!
//! The arithmetic lives in plain functions (tested natively); the component
//! export at the bottom only converts errors to the WIT `stats-error` variant.
//!
//! On wasm the crate is `no_std` (see `guest-rt`) so the component imports nothing.

#![cfg_attr(target_family = "wasm", no_std)]

extern crate alloc;

use alloc::vec::Vec;
use guest_rt as _;

/// Why a statistic could not be computed. Mirrors the WIT `stats-error`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Error {
    EmptyInput,
    NonFinite(u32),
    ZeroBins,
    TooManyBins(u32),
    PercentileOutOfRange(f64),
    Overflow,
}

/// Most buckets `histogram` will allocate.
pub const MAX_BINS: u32 = 65_536;

/// One histogram bucket: values in `[low, high)`; the last bucket also holds `high`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub low: f64,
    pub high: f64,
    pub count: u32,
}

/// Non-empty and all finite, or the first reason it is not.
fn check(values: &[f64]) -> Result<(), Error> {
    if values.is_empty() {
        return Err(Error::EmptyInput);
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::NonFinite(u32::try_from(i).unwrap_or(u32::MAX))),
        None => Ok(()),
    }
}

fn finite(x: f64) -> Result<f64, Error> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Error::Overflow)
    }
}

/// Arithmetic mean.
pub fn mean(values: &[f64]) -> Result<f64, Error> {
    check(values)?;
    let n = values.len() as f64;
    let plain = values.iter().sum::<f64>() / n;
    if plain.is_finite() {
        return Ok(plain);
    }
    // The sum overflowed; dividing first keeps every term and the total in range.
    finite(values.iter().map(|v| v / n).sum())
}

/// Population variance: mean of squared deviations from the mean (divides by n).
pub fn variance(values: &[f64]) -> Result<f64, Error> {
    let m = mean(values)?;
    let n = values.len() as f64;
    finite(values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n)
}

/// Population standard deviation.
pub fn stddev(values: &[f64]) -> Result<f64, Error> {
    variance(values).map(libm::sqrt)
}

/// Smallest value.
pub fn min(values: &[f64]) -> Result<f64, Error> {
    check(values)?;
    Ok(values.iter().copied().fold(f64::INFINITY, f64::min))
}

/// Largest value.
pub fn max(values: &[f64]) -> Result<f64, Error> {
    check(values)?;
    Ok(values.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}

/// The `p`-th percentile (p in [0, 100]) by linear interpolation between the
/// closest ranks: with the values sorted and r = p / 100 * (n - 1), the result is
/// `v[floor(r)] + (r - floor(r)) * (v[ceil(r)] - v[floor(r)])`. This is NumPy's
/// default ("linear") and Excel's `PERCENTILE.INC`; p = 0 is the minimum, p = 100
/// the maximum.
pub fn percentile(values: &[f64], p: f64) -> Result<f64, Error> {
    check(values)?;
    if !(0.0..=100.0).contains(&p) {
        return Err(Error::PercentileOutOfRange(p));
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let lo = libm::floor(rank) as usize;
    let hi = libm::ceil(rank) as usize;
    let (a, b, t) = (sorted[lo], sorted[hi], rank - lo as f64);
    let x = a + t * (b - a);
    if x.is_finite() {
        return Ok(x);
    }
    // `b - a` overflows when a and b are huge with opposite signs; this form does not.
    finite(a * (1.0 - t) + b * t)
}

/// Median: the 50th percentile (the mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> Result<f64, Error> {
    percentile(values, 50.0)
}

/// `bins` equal-width buckets spanning `[min, max]`, ascending. Each value goes to
/// the bucket whose `[low, high)` holds it; the maximum goes to the last bucket.
/// When all values are equal the span is `[v - 0.5, v + 0.5]`.
pub fn histogram(values: &[f64], bins: u32) -> Result<Vec<Bucket>, Error> {
    check(values)?;
    if bins == 0 {
        return Err(Error::ZeroBins);
    }
    if bins > MAX_BINS {
        return Err(Error::TooManyBins(bins));
    }
    let (mut lo, mut hi) = (min(values)?, max(values)?);
    if lo == hi {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let width = finite((hi - lo) / f64::from(bins))?;
    let edge = |i: u32| {
        if i == bins {
            hi
        } else {
            lo + width * f64::from(i)
        }
    };
    let mut buckets: Vec<Bucket> = (0..bins)
        .map(|i| Bucket {
            low: edge(i),
            high: edge(i + 1),
            count: 0,
        })
        .collect();
    let last = buckets.len() - 1;
    for &v in values {
        // Float rounding can put a value one bucket off; the clamp keeps it in range.
        let i = (libm::floor((v - lo) / width) as usize).min(last);
        buckets[i].count = buckets[i].count.saturating_add(1);
    }
    Ok(buckets)
}

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/stats",
        world: "airlock:stats/library",
    });

    use super::{Bucket as PlainBucket, Error};
    use alloc::vec::Vec;
    use exports::airlock::stats::stats::{Bucket, Guest, StatsError};

    /// Exported only on wasm: native linkers reject the `:` in export names, and
    /// native builds exist for the unit tests of the plain functions above.
    #[cfg_attr(not(target_family = "wasm"), allow(dead_code))]
    struct Component;

    impl From<Error> for StatsError {
        fn from(e: Error) -> Self {
            match e {
                Error::EmptyInput => StatsError::EmptyInput,
                Error::NonFinite(i) => StatsError::NonFinite(i),
                Error::ZeroBins => StatsError::ZeroBins,
                Error::TooManyBins(n) => StatsError::TooManyBins(n),
                Error::PercentileOutOfRange(p) => StatsError::PercentileOutOfRange(p),
                Error::Overflow => StatsError::Overflow,
            }
        }
    }

    impl Guest for Component {
        fn mean(values: Vec<f64>) -> Result<f64, StatsError> {
            Ok(super::mean(&values)?)
        }
        fn median(values: Vec<f64>) -> Result<f64, StatsError> {
            Ok(super::median(&values)?)
        }
        fn variance(values: Vec<f64>) -> Result<f64, StatsError> {
            Ok(super::variance(&values)?)
        }
        fn stddev(values: Vec<f64>) -> Result<f64, StatsError> {
            Ok(super::stddev(&values)?)
        }
        fn percentile(values: Vec<f64>, p: f64) -> Result<f64, StatsError> {
            Ok(super::percentile(&values, p)?)
        }
        fn min(values: Vec<f64>) -> Result<f64, StatsError> {
            Ok(super::min(&values)?)
        }
        fn max(values: Vec<f64>) -> Result<f64, StatsError> {
            Ok(super::max(&values)?)
        }
        fn histogram(values: Vec<f64>, bins: u32) -> Result<Vec<Bucket>, StatsError> {
            let buckets = super::histogram(&values, bins)?;
            Ok(buckets
                .into_iter()
                .map(|PlainBucket { low, high, count }| Bucket { low, high, count })
                .collect())
        }
    }

    #[cfg(target_family = "wasm")]
    export!(Component);
}

#[cfg(test)]
mod tests {
    use super::*;

    const XS: [f64; 5] = [2.0, 4.0, 4.0, 5.0, 10.0];

    #[test]
    fn central_tendency_and_spread() {
        assert_eq!(mean(&XS), Ok(5.0));
        assert_eq!(median(&XS), Ok(4.0));
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Ok(2.5));
        assert_eq!(variance(&XS), Ok(7.2));
        assert!((stddev(&XS).unwrap() - 7.2f64.sqrt()).abs() < 1e-12);
        assert_eq!(min(&XS), Ok(2.0));
        assert_eq!(max(&XS), Ok(10.0));
        assert_eq!(variance(&[3.0]), Ok(0.0));
    }

    #[test]
    fn percentile_interpolates_between_closest_ranks() {
        let v = [15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(percentile(&v, 0.0), Ok(15.0));
        assert_eq!(percentile(&v, 100.0), Ok(50.0));
        assert_eq!(percentile(&v, 50.0), Ok(35.0));
        // r = 0.4 * 4 = 1.6 -> 20 + 0.6 * (35 - 20) = 29
        assert!((percentile(&v, 40.0).unwrap() - 29.0).abs() < 1e-12);
        // Unsorted input gives the same answer.
        assert_eq!(percentile(&[50.0, 15.0, 40.0, 20.0, 35.0], 50.0), Ok(35.0));
    }

    #[test]
    fn bad_input_is_an_error_not_a_trap() {
        assert_eq!(mean(&[]), Err(Error::EmptyInput));
        assert_eq!(median(&[1.0, f64::NAN]), Err(Error::NonFinite(1)));
        assert_eq!(max(&[f64::INFINITY]), Err(Error::NonFinite(0)));
        assert_eq!(
            percentile(&XS, -1.0),
            Err(Error::PercentileOutOfRange(-1.0))
        );
        assert_eq!(
            percentile(&XS, 100.5),
            Err(Error::PercentileOutOfRange(100.5))
        );
        assert!(matches!(
            percentile(&XS, f64::NAN),
            Err(Error::PercentileOutOfRange(_))
        ));
        assert_eq!(histogram(&XS, 0), Err(Error::ZeroBins));
        assert_eq!(
            histogram(&XS, MAX_BINS + 1),
            Err(Error::TooManyBins(MAX_BINS + 1))
        );
        assert_eq!(histogram(&[], 3), Err(Error::EmptyInput));
    }

    #[test]
    fn large_values_do_not_overflow_silently() {
        assert_eq!(mean(&[f64::MAX, f64::MAX]), Ok(f64::MAX));
        assert_eq!(variance(&[-f64::MAX, f64::MAX]), Err(Error::Overflow));
        assert_eq!(median(&[-f64::MAX, f64::MAX]), Ok(0.0));
    }

    #[test]
    fn histogram_buckets_cover_the_range() {
        let h = histogram(&XS, 4).unwrap();
        let edges: Vec<(f64, f64)> = h.iter().map(|b| (b.low, b.high)).collect();
        assert_eq!(edges, [(2.0, 4.0), (4.0, 6.0), (6.0, 8.0), (8.0, 10.0)]);
        let counts: Vec<u32> = h.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 3, 0, 1]);
    }

    #[test]
    fn histogram_of_equal_values_uses_a_unit_span() {
        let h = histogram(&[7.0, 7.0], 2).unwrap();
        assert_eq!(
            h[0],
            Bucket {
                low: 6.5,
                high: 7.0,
                count: 0
            }
        );
        assert_eq!(
            h[1],
            Bucket {
                low: 7.0,
                high: 7.5,
                count: 2
            }
        );
    }
}
