//! The trained model: MSTICPy's first-order Markov chain over commands, with
//! Laplace smoothing, and the parameter (and value) probabilities conditional on the
//! command.
//!
//! Counting follows MSTICPy: every session counts a start token, its commands and an
//! end token; transitions run start -> first, ..., last -> end. Smoothing adds one to
//! every transition from any command but the end token to any command but the start
//! token (unknown included), and counts both ends of each added transition in the
//! single-command counts. Parameters are modelled as independent Bernoulli variables
//! given the command; values as categorical given the parameter, and only for the
//! parameters MSTICPy deems modellable (at most 20 distinct values, seen at least 20
//! times, with distinct values at most 10% of its uses).
// Keys are small ids and short strings, hashed in the hot loop: foldhash, not SipHash.
use foldhash::HashMap;

use super::input::{Command, SessionKind, Sessions, END, START, UNKNOWN};

/// Probabilities learnt from a set of sessions.
#[derive(Debug)]
pub struct Model {
    kind: SessionKind,
    /// Smoothed single-command counts, and their total.
    seq1: Vec<f64>,
    total: f64,
    /// Raw transition counts per (previous, next) command, and smoothed row totals.
    transitions: Transitions,
    row_totals: Vec<f64>,
    /// Per command, the probability of each parameter given the command, in the order
    /// the parameters were first seen with it, the unknown parameter last.
    params: Vec<Vec<(u32, f64)>>,
    /// Per parameter, whether its values are modelled, and its value probabilities.
    modellable: Vec<bool>,
    values: Vec<ValueRow>,
}

/// Transition counts: a table of every pair while there are few commands (the usual
/// case: a few dozen to a few hundred), a map of the pairs seen beyond that.
#[derive(Debug)]
enum Transitions {
    Table { commands: usize, counts: Vec<u64> },
    Map(HashMap<(u32, u32), u64>),
}

/// Up to this many commands (a table of 8 MiB), transitions are counted in a table.
const TABLE_LIMIT: usize = 1024;

impl Transitions {
    fn new(commands: usize) -> Self {
        if commands <= TABLE_LIMIT {
            Transitions::Table {
                commands,
                counts: vec![0; commands * commands],
            }
        } else {
            Transitions::Map(HashMap::default())
        }
    }

    fn add(&mut self, prev: u32, next: u32) {
        match self {
            Transitions::Table { commands, counts } => {
                counts[prev as usize * *commands + next as usize] += 1
            }
            Transitions::Map(map) => *map.entry((prev, next)).or_default() += 1,
        }
    }

    /// The count of `prev -> next`; 0 for a command the model has not seen.
    fn count(&self, prev: u32, next: u32) -> u64 {
        let (prev, next) = (prev as usize, next as usize);
        match self {
            Transitions::Table { commands, counts } if prev < *commands && next < *commands => {
                counts[prev * *commands + next]
            }
            Transitions::Table { .. } => 0,
            Transitions::Map(map) => map.get(&(prev as u32, next as u32)).copied().unwrap_or(0),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct ValueRow {
    counts: HashMap<u32, u64>,
    total: f64,
}

impl ValueRow {
    fn prob(&self, value: Option<u32>) -> f64 {
        let count = value.and_then(|v| self.counts.get(&v)).map_or(0, |c| *c);
        (count + 1) as f64 / self.total
    }
}

impl Model {
    /// Counts, smooths and normalises, as MSTICPy's `Model.train`.
    pub fn train(sessions: &Sessions) -> Model {
        let k = sessions.n_commands;
        let mut raw1 = vec![0u64; k];
        let mut transitions = Transitions::new(k);
        let mut raw_rows = vec![0u64; k];
        let mut cmd_params: Vec<Vec<(u32, u64)>> = vec![Vec::new(); k];
        let mut param_uses = vec![0u64; sessions.n_params];
        let mut param_values: Vec<HashMap<u32, u64>> = vec![HashMap::default(); sessions.n_params];
        for session in &sessions.sessions {
            let mut prev = START;
            raw1[START as usize] += 1;
            for cmd in session {
                raw1[cmd.name as usize] += 1;
                transitions.add(prev, cmd.name);
                raw_rows[prev as usize] += 1;
                prev = cmd.name;
                let row = &mut cmd_params[cmd.name as usize];
                for &(param, value) in &cmd.params {
                    param_uses[param as usize] += 1;
                    match row.iter_mut().find(|(p, _)| *p == param) {
                        Some((_, n)) => *n += 1,
                        None => row.push((param, 1)),
                    }
                    if let Some(v) = value {
                        *param_values[param as usize].entry(v).or_default() += 1;
                    }
                }
            }
            transitions.add(prev, END);
            raw_rows[prev as usize] += 1;
            raw1[END as usize] += 1;
        }

        // Laplace smoothing: `k` commands (the unknown one included) on each side.
        let added = (k - 1) as u64;
        let seq1: Vec<f64> = (0..k)
            .map(|c| {
                let c32 = c as u32;
                let from = if c32 != END { added } else { 0 };
                let to = if c32 != START { added } else { 0 };
                (raw1[c] + from + to) as f64
            })
            .collect();
        let total = seq1.iter().sum::<f64>();
        let row_totals = raw_rows.iter().map(|r| (r + added) as f64).collect();
        let params = cmd_params
            .iter()
            .zip(&seq1)
            .map(|(row, n_cmd)| {
                row.iter()
                    .map(|&(p, n)| (p, (n + 1) as f64 / n_cmd))
                    .chain(std::iter::once((UNKNOWN, 1.0 / n_cmd)))
                    .collect()
            })
            .collect();
        let modellable = param_values
            .iter()
            .zip(&param_uses)
            .map(|(values, &uses)| {
                let distinct = values.len() as u64;
                !values.is_empty() && distinct <= 20 && uses >= 20 && 10 * distinct <= uses
            })
            .collect();
        let values = param_values
            .into_iter()
            .map(|counts| {
                let total = (counts.values().sum::<u64>() + counts.len() as u64 + 1) as f64;
                ValueRow { counts, total }
            })
            .collect();
        Model {
            kind: sessions.kind,
            seq1,
            total,
            transitions,
            row_totals,
            params,
            modellable,
            values,
        }
    }

    /// P(command), for a window that does not start the session.
    pub fn prior(&self, cmd: u32) -> f64 {
        let known = self.seq1.get(cmd as usize).copied();
        known.unwrap_or(self.seq1[UNKNOWN as usize]) / self.total
    }

    /// P(next | previous). The end token has no row of its own: it takes the unknown
    /// command's, as any command the model has not seen.
    pub fn transition(&self, prev: u32, next: u32) -> f64 {
        let row = if prev == END || prev as usize >= self.row_totals.len() {
            UNKNOWN
        } else {
            prev
        };
        let count = self.transitions.count(row, next);
        (count + 1) as f64 / self.row_totals[row as usize]
    }

    /// The probability of a command's parameters (and modelled values) given the
    /// command, as a geometric mean over the terms, as MSTICPy scores a window's
    /// commands. A command without parameters scores 1.
    pub fn params_given_command(&self, cmd: &Command) -> f64 {
        if self.kind == SessionKind::Commands || cmd.params.is_empty() {
            return 1.0;
        }
        let reference = self
            .params
            .get(cmd.name as usize)
            .unwrap_or(&self.params[UNKNOWN as usize]);
        let mut likelihood = 1.0;
        let mut valued = 0usize;
        for &(param, prob) in reference {
            match cmd.params.iter().find(|(p, _)| *p == param) {
                Some(&(_, value)) => {
                    likelihood *= prob;
                    if self.kind == SessionKind::ParamValues && self.modellable[param as usize] {
                        valued += 1;
                        likelihood *= self.values[param as usize].prob(value);
                    }
                }
                None => likelihood *= 1.0 - prob,
            }
        }
        let terms = reference.len() + valued;
        f64::powf(likelihood, 1.0 / terms as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmds(sessions: &[&[u32]]) -> Sessions {
        let n = sessions.iter().flat_map(|s| s.iter()).max().unwrap() + 1;
        Sessions {
            kind: SessionKind::Commands,
            sessions: sessions
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|&name| Command {
                            name,
                            params: Vec::new(),
                        })
                        .collect()
                })
                .collect(),
            n_commands: n as usize,
            n_params: 1,
            n_values: 1,
        }
    }

    #[test]
    fn smoothed_counts_match_a_hand_count() {
        // Commands: unk 0, start 1, end 2, a 3, b 4. Sessions [a b], [a].
        let m = Model::train(&cmds(&[&[3, 4], &[3]]));
        // k = 5: start counted 2 + 4 as a source; end 2 + 4 as a target; a 2 + 8.
        assert_eq!(m.seq1, vec![8.0, 6.0, 6.0, 10.0, 9.0]);
        assert_eq!(m.total, 39.0);
        assert_eq!(m.prior(3), 10.0 / 39.0);
        // start -> a twice, of 2 raw + 4 smoothed transitions from start.
        assert_eq!(m.transition(START, 3), 3.0 / 6.0);
        // a -> b once, a -> end once: (1 + 1) / (2 + 4).
        assert_eq!(m.transition(3, 4), 2.0 / 6.0);
        // Unseen pairs and rows fall back to one smoothed count.
        assert_eq!(m.transition(4, 3), 1.0 / 5.0);
        assert_eq!(m.transition(END, 3), 1.0 / 4.0);
        assert_eq!(m.prior(99), 8.0 / 39.0);
    }

    #[test]
    fn many_commands_are_counted_in_a_map_as_few_are_in_a_table() {
        let sessions: Vec<Vec<u32>> = (0..1500u32)
            .map(|i| vec![3 + i % 1200, 3 + (i * 7) % 1200])
            .collect();
        let sessions: Vec<&[u32]> = sessions.iter().map(Vec::as_slice).collect();
        let many = Model::train(&cmds(&sessions));
        assert!(matches!(many.transitions, Transitions::Map(_)));
        let mut few = Transitions::Table {
            commands: 1203,
            counts: vec![0; 1203 * 1203],
        };
        for s in &sessions {
            few.add(START, s[0]);
            few.add(s[0], s[1]);
            few.add(s[1], END);
        }
        for (prev, next) in [
            (START, 3),
            (3, 3),
            (10, 52),
            (10, 66),
            (1202, END),
            (4, 5),
            (2000, 3),
        ] {
            assert_eq!(
                many.transitions.count(prev, next),
                few.count(prev, next),
                "{prev} -> {next}"
            );
        }
        // Sessions 7 and 1207 both go 10 -> 52.
        assert_eq!(few.count(10, 52), 2);
    }

    #[test]
    fn parameter_sets_multiply_present_and_absent_terms() {
        let mut s = cmds(&[&[3], &[3]]);
        s.kind = SessionKind::ParamSets;
        s.n_params = 2;
        s.sessions[0][0].params = vec![(1, None)];
        let m = Model::train(&s);
        // k = 4, a: seq1 = 2 + 3 + 3 = 8; param 1 seen once: (1 + 1) / 8; unknown 1 / 8.
        let with = m.params_given_command(&s.sessions[0][0]);
        assert!((with - (0.25f64 * 0.875).sqrt()).abs() < 1e-15);
        assert_eq!(m.params_given_command(&s.sessions[1][0]), 1.0);
    }
}
