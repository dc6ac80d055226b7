//! Percentiles within a run, and median with min–max across runs.

/// Nearest-rank percentile of sorted values (`q` in 0..=1).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts in place (NaN last) and returns the slice.
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(|a, b| a.total_cmp(b));
    values
}

/// One figure over several runs.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if values.is_empty() {
            return Spread { median: f64::NAN, min: f64::NAN, max: f64::NAN, runs: 0 };
        }
        let s = sorted(values);
        let n = s.len();
        let median = if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 };
        Spread { median, min: s[0], max: s[n - 1], runs: n }
    }

    /// `median (min–max)` with `decimals` digits; just the value for one run.
    pub fn show(&self, decimals: usize) -> String {
        if self.runs == 0 {
            return "–".into();
        }
        if self.runs == 1 || (self.min == self.max) {
            return format!("{:.*}", decimals, self.median);
        }
        format!("{:.*} ({:.*}–{:.*})", decimals, self.median, decimals, self.min, decimals, self.max)
    }

    /// The same for a ratio: `1.52× (1.40–1.61)`.
    pub fn show_times(&self, decimals: usize) -> String {
        match self.show(decimals).split_once(' ') {
            Some((median, range)) => format!("{median}× {range}"),
            None if self.runs == 0 => "–".into(),
            None => format!("{:.*}×", decimals, self.median),
        }
    }
}

/// The spread of `f` over several runs.
pub fn spread<T>(runs: &[T], f: impl Fn(&T) -> f64) -> Spread {
    Spread::of(&runs.iter().map(f).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_spreads() {
        let s = sorted((1..=1000).map(f64::from).collect());
        assert_eq!(percentile(&s, 0.5), 500.0);
        assert_eq!(percentile(&s, 0.99), 990.0);
        assert_eq!(percentile(&s, 0.999), 999.0);
        assert_eq!(percentile(&s, 1.0), 1000.0);
        let spread = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!((spread.median, spread.min, spread.max), (2.0, 1.0, 3.0));
        assert_eq!(spread.show(1), "2.0 (1.0–3.0)");
        assert_eq!(spread.show_times(2), "2.00× (1.00–3.00)");
        assert_eq!(Spread::of(&[1.5]).show_times(2), "1.50×");
        assert_eq!(Spread::of(&[f64::NAN]).show_times(2), "–");
    }
}
