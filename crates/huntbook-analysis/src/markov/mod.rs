//! Anomalous sessions, as MSTICPy's `anomalous_sequence`: a Markov model of the
//! commands in a set of sessions (optionally with their parameters, and values), and
//! for each session its least likely window of consecutive commands.
//!
//! [`score_sessions`] trains the model on the sessions of a column and adds MSTICPy's
//! two columns, `rarest_window{N}_likelihood` and `rarest_window{N}` (the window
//! itself, of the session column's element type). [`rarest_windows`] gives the same
//! results as plain values. The model's kind follows the column's type: lists of
//! command names, or lists of `struct<name, params>` with the parameters as a list of
//! names or a map of names to values.
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Float64Array, GenericListArray, OffsetSizeTrait, RecordBatch};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use crate::columns::column;
use crate::AnalysisError;

mod input;
mod model;
mod windows;

pub use input::{Command, SessionKind, Sessions, SessionsBuilder};
use model::Model;
pub use windows::{rarest_window, RarestWindow, ScoreOptions};

/// The rarest window of every session in `session_column`, in row order, with the
/// kind of model the column called for.
pub fn rarest_windows(
    batch: &RecordBatch,
    session_column: &str,
    options: &ScoreOptions,
) -> Result<(SessionKind, Vec<RarestWindow>), AnalysisError> {
    check(options)?;
    let sessions = input::read_sessions(session_column, column(batch, session_column)?)?;
    if sessions.sessions.is_empty() {
        return Err(AnalysisError::Invalid(format!(
            "there are no sessions in '{session_column}' to train the model on"
        )));
    }
    Ok((sessions.kind, rarest_windows_of(&sessions, options)?))
}

/// The rarest window of each of `sessions`, under a model trained on them all.
pub fn rarest_windows_of(
    sessions: &Sessions,
    options: &ScoreOptions,
) -> Result<Vec<RarestWindow>, AnalysisError> {
    check(options)?;
    if sessions.sessions.is_empty() {
        return Err(AnalysisError::Invalid(
            "there are no sessions to train the model on".into(),
        ));
    }
    let model = Model::train(sessions);
    Ok(sessions
        .sessions
        .par_iter()
        .map(|s| rarest_window(&model, s, options))
        .collect())
}

fn check(options: &ScoreOptions) -> Result<(), AnalysisError> {
    if options.window_length == 0 {
        return Err(AnalysisError::Invalid(
            "window_length must be 1 or more (MSTICPy suggests 2 or 3)".into(),
        ));
    }
    Ok(())
}

/// `batch` with MSTICPy's two score columns added: `rarest_window{N}_likelihood`
/// (NaN for sessions shorter than a window) and `rarest_window{N}`, the window's
/// commands (empty when there is none).
pub fn score_sessions(
    batch: &RecordBatch,
    session_column: &str,
    options: &ScoreOptions,
) -> Result<RecordBatch, AnalysisError> {
    let (_, windows) = rarest_windows(batch, session_column, options)?;
    let sessions = column(batch, session_column)?;
    let slices = match sessions.data_type() {
        DataType::List(_) => window_lists(sessions.as_list::<i32>(), &windows, options)?,
        _ => window_lists(sessions.as_list::<i64>(), &windows, options)?,
    };
    let n = options.window_length;
    let likelihoods = Float64Array::from_iter_values(windows.iter().map(|w| w.likelihood));
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(
        format!("rarest_window{n}_likelihood"),
        DataType::Float64,
        true,
    ));
    fields.push(Field::new(
        format!("rarest_window{n}"),
        slices.data_type().clone(),
        true,
    ));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(likelihoods));
    columns.push(slices);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| AnalysisError::Invalid(format!("building the scored table: {e}")))
}

/// Each session's window as a list of the session's own elements.
fn window_lists<O: OffsetSizeTrait>(
    sessions: &GenericListArray<O>,
    windows: &[RarestWindow],
    options: &ScoreOptions,
) -> Result<ArrayRef, AnalysisError> {
    let mut rows = Vec::new();
    let mut lengths = Vec::with_capacity(windows.len());
    for (row, w) in windows.iter().enumerate() {
        let begin = sessions.value_offsets()[row].as_usize();
        let len = sessions.value_length(row).as_usize();
        let taken = w
            .start
            .map_or(0..0, |s| s..(s + options.window_length).min(len));
        lengths.push(taken.len());
        rows.extend(taken.map(|i| (begin + i) as u64));
    }
    let values = arrow_select::take::take(
        sessions.values().as_ref(),
        &arrow_array::UInt64Array::from(rows),
        None,
    )
    .map_err(|e| AnalysisError::Invalid(format!("taking the rarest windows: {e}")))?;
    let item = match sessions.data_type() {
        DataType::List(f) | DataType::LargeList(f) => f.clone(),
        _ => unreachable!("the sessions were read as lists"),
    };
    let offsets = OffsetBuffer::<O>::from_lengths(lengths);
    Ok(Arc::new(
        GenericListArray::<O>::try_new(item, offsets, values, None)
            .map_err(|e| AnalysisError::Invalid(format!("building the rarest windows: {e}")))?,
    ))
}

#[cfg(test)]
mod tests {
    use arrow_array::builder::{ListBuilder, StringBuilder};

    use super::*;

    #[test]
    fn scores_are_added_with_msticpys_column_names() {
        let mut b = ListBuilder::new(StringBuilder::new());
        for _ in 0..5 {
            b.append_value([Some("login"), Some("read"), Some("logout")]);
        }
        b.append_value([Some("login"), Some("export"), Some("wipe"), Some("logout")]);
        b.append_value([Some("login")]);
        let list: ArrayRef = Arc::new(b.finish());
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "cmds",
                list.data_type().clone(),
                true,
            )])),
            vec![list],
        )
        .unwrap();
        let out = score_sessions(&batch, "cmds", &ScoreOptions::default()).unwrap();
        let lik = out.column_by_name("rarest_window3_likelihood").unwrap();
        let lik = lik.as_primitive::<arrow_array::types::Float64Type>();
        // The odd session is the least likely; the single command with the end token
        // is shorter than a window.
        let odd = lik.value(5);
        assert!((0..5).all(|i| lik.value(i) > odd));
        assert!(lik.value(6).is_nan());
        let windows = out
            .column_by_name("rarest_window3")
            .unwrap()
            .as_list::<i32>();
        let odd_window = windows.value(5);
        let odd_window: Vec<_> = odd_window.as_string::<i32>().iter().flatten().collect();
        assert!(odd_window.contains(&"export") || odd_window.contains(&"wipe"));
        assert_eq!(windows.value_length(6), 0);
        assert!(rarest_windows(
            &batch,
            "cmds",
            &ScoreOptions {
                window_length: 0,
                ..Default::default()
            }
        )
        .is_err());
    }
}
