//! The rarest window of a session: slide a window of `length` commands along the
//! session (with the end token appended when tokens are used), score each window by
//! the model and keep the least likely, the first one on ties.
//!
//! A window's likelihood is P(first command) - P(first | start token) for the
//! session's first window when tokens are used - times the transitions inside it,
//! each command times the probability of its parameters given the command.
//! Factors are multiplied in MSTICPy's order so that ties come out alike.
use super::input::{Command, END, START};
use super::model::Model;

/// How sessions are scored.
#[derive(Debug, Clone, Copy)]
pub struct ScoreOptions {
    /// Commands per window (MSTICPy asks for 2 or more).
    pub window_length: usize,
    /// Score the first window from the start token, and append the end token.
    pub use_start_end_tokens: bool,
    /// Report each window's likelihood as its geometric mean per command.
    pub use_geo_mean: bool,
}

impl Default for ScoreOptions {
    /// MSTICPy's `score_sessions`: windows of 3, tokens on, plain likelihoods.
    fn default() -> Self {
        ScoreOptions {
            window_length: 3,
            use_start_end_tokens: true,
            use_geo_mean: false,
        }
    }
}

/// The least likely window of one session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RarestWindow {
    /// NaN when the session is shorter than a window.
    pub likelihood: f64,
    /// Where the window starts in the session (`None` when there is none). The window
    /// is `session[start..start + window_length]`, cut at the session's end.
    pub start: Option<usize>,
}

/// The rarest window of `session`.
pub fn rarest_window(model: &Model, session: &[Command], options: &ScoreOptions) -> RarestWindow {
    // Each command's parameter probability does not depend on the window.
    let mut steps: Vec<(u32, f64)> = session
        .iter()
        .map(|c| (c.name, model.params_given_command(c)))
        .collect();
    if options.use_start_end_tokens {
        steps.push((END, 1.0));
    }
    let length = options.window_length;
    let mut rarest = RarestWindow {
        likelihood: f64::NAN,
        start: None,
    };
    if length == 0 || steps.len() < length {
        return rarest;
    }
    for start in 0..=steps.len() - length {
        let (first, first_params) = steps[start];
        let opening = if start == 0 && options.use_start_end_tokens {
            model.transition(START, first)
        } else {
            model.prior(first)
        };
        let mut likelihood = opening * first_params;
        for pair in steps[start..start + length].windows(2) {
            likelihood *= model.transition(pair[0].0, pair[1].0);
            likelihood *= pair[1].1;
        }
        if options.use_geo_mean {
            likelihood = likelihood.powf(1.0 / length as f64);
        }
        if rarest.start.is_none() || likelihood < rarest.likelihood {
            rarest = RarestWindow {
                likelihood,
                start: Some(start),
            };
        }
    }
    rarest
}

#[cfg(test)]
mod tests {
    use super::super::input::{SessionKind, Sessions};
    use super::*;

    fn session(names: &[u32]) -> Vec<Command> {
        names
            .iter()
            .map(|&name| Command {
                name,
                params: Vec::new(),
            })
            .collect()
    }

    fn model(sessions: &[&[u32]]) -> Model {
        Model::train(&Sessions {
            kind: SessionKind::Commands,
            sessions: sessions.iter().map(|s| session(s)).collect(),
            n_commands: 6,
            n_params: 1,
            n_values: 1,
        })
    }

    #[test]
    fn the_rare_transition_is_found_and_scored_by_hand() {
        // a=3 b=4 c=5: a b is common, b c happens once.
        let m = model(&[&[3, 4], &[3, 4], &[3, 4], &[3, 4, 5]]);
        let opts = ScoreOptions {
            window_length: 2,
            use_start_end_tokens: false,
            use_geo_mean: false,
        };
        let w = rarest_window(&m, &session(&[3, 4, 5]), &opts);
        assert_eq!(w.start, Some(1));
        assert_eq!(w.likelihood, m.prior(4) * m.transition(4, 5));
        let geo = rarest_window(
            &m,
            &session(&[3, 4, 5]),
            &ScoreOptions {
                use_geo_mean: true,
                ..opts
            },
        );
        assert!((geo.likelihood - w.likelihood.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn tokens_open_the_first_window_and_close_the_last() {
        let m = model(&[&[3, 4], &[3, 4, 5]]);
        let opts = ScoreOptions {
            window_length: 3,
            ..ScoreOptions::default()
        };
        // [a b] + end is one window of 3, opened from the start token.
        let w = rarest_window(&m, &session(&[3, 4]), &opts);
        let expected = m.transition(START, 3) * m.transition(3, 4) * m.transition(4, END);
        assert_eq!(
            w,
            RarestWindow {
                likelihood: expected,
                start: Some(0)
            }
        );
        // Too short for a window: NaN and no window.
        let w = rarest_window(&m, &session(&[3]), &opts);
        assert!(w.likelihood.is_nan() && w.start.is_none());
    }
}
