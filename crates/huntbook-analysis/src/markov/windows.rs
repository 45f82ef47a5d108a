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

/// One position of a session: the command, the probability of its parameters given
/// the command, and the transition into it from the position before.
struct Step {
    command: u32,
    params: f64,
    from_previous: f64,
}

/// The rarest window of `session`.
pub fn rarest_window(model: &Model, session: &[Command], options: &ScoreOptions) -> RarestWindow {
    let length = options.window_length;
    let steps = session.len() + usize::from(options.use_start_end_tokens);
    if length == 0 || steps < length {
        return lowest(std::iter::empty());
    }
    // A command's parameter probability and the transition into it are the same in
    // every window that holds them: each is computed once.
    let names = session
        .iter()
        .map(|c| (c.name, model.params_given_command(c)))
        .chain(options.use_start_end_tokens.then_some((END, 1.0)));
    let mut previous = START;
    let steps: Vec<Step> = names
        .map(|(command, params)| {
            let from_previous = model.transition(previous, command);
            previous = command;
            Step {
                command,
                params,
                from_previous,
            }
        })
        .collect();
    let likelihoods = (0..=steps.len() - length).map(|start| {
        let first = &steps[start];
        let opening = if start == 0 && options.use_start_end_tokens {
            first.from_previous
        } else {
            model.prior(first.command)
        };
        let mut likelihood = opening * first.params;
        for step in &steps[start + 1..start + length] {
            likelihood *= step.from_previous;
            likelihood *= step.params;
        }
        likelihood
    });
    // Two loops rather than a test in one: the compiler would otherwise take the
    // power of every window whether asked or not.
    if options.use_geo_mean {
        let exponent = 1.0 / length as f64;
        lowest(likelihoods.map(|l| l.powf(exponent)))
    } else {
        lowest(likelihoods)
    }
}

/// The least of the windows' likelihoods, the first one on ties.
fn lowest(likelihoods: impl Iterator<Item = f64>) -> RarestWindow {
    let mut rarest = RarestWindow {
        likelihood: f64::NAN,
        start: None,
    };
    for (start, likelihood) in likelihoods.enumerate() {
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
