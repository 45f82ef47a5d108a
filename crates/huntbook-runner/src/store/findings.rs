//! What a run left behind, in the store: where its outputs were stored (columns of
//! `runs`) and the finding it reported (`findings`), linked to the run, its job and
//! those outputs.

use std::sync::Arc;

use uuid::Uuid;

use super::ops::{limit, select_run};
use super::tx::{Param, Row, Tx};
use super::JobStore;
use crate::error::StoreError;
use crate::findings::{Finding, FindingFilter, NewFinding, RunOutputs};
use crate::options::StoreOptions;

const FINDING_COLUMNS: &str = "f.id, f.run_id, r.job_id, j.notebook, f.description, f.severity, \
    f.entities, f.warnings, f.triage_incident, r.output_notebook, r.output_html, f.created_at";

const FINDINGS: &str = "findings f JOIN runs r ON r.id = f.run_id JOIN jobs j ON j.id = r.job_id";

fn json_column(row: &Row, i: usize, what: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(row.text(i)?)
        .map_err(|e| StoreError::Corrupt(format!("the {what} of a finding: {e}")))
}

fn finding_from_row(row: &Row) -> Result<Finding, StoreError> {
    let warnings = match json_column(row, 7, "warnings")? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|w| w.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => Vec::new(),
    };
    Ok(Finding {
        id: row.parsed(0)?,
        run_id: row.parsed(1)?,
        job_id: row.parsed(2)?,
        notebook: row.text(3)?.to_owned(),
        description: row.text(4)?.to_owned(),
        severity: row.parsed(5)?,
        entities: json_column(row, 6, "entities")?,
        warnings,
        triage_incident: row.opt_text(8)?.map(str::to_owned),
        outputs: RunOutputs {
            notebook: row.opt_text(9)?.map(str::to_owned),
            html: row.opt_text(10)?.map(str::to_owned),
        },
        created_at: row.time(11)?,
    })
}

pub(super) async fn select_finding(tx: &mut Tx<'_>, id: Uuid) -> Result<Finding, StoreError> {
    let sql = format!("SELECT {FINDING_COLUMNS} FROM {FINDINGS} WHERE f.id = $1");
    let rows = tx.query(&sql, &[Param::text(id.to_string())]).await?;
    rows.first()
        .map(finding_from_row)
        .unwrap_or(Err(StoreError::NotFound {
            what: "finding",
            id: id.to_string(),
        }))
}

async fn record_outputs(tx: &mut Tx<'_>, run: Uuid, outputs: RunOutputs) -> Result<(), StoreError> {
    let changed = tx
        .execute(
            "UPDATE runs SET output_notebook = $2, output_html = $3 WHERE id = $1",
            &[
                Param::text(run.to_string()),
                Param::Text(outputs.notebook),
                Param::Text(outputs.html),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::RunNotFound(run));
    }
    Ok(())
}

async fn run_outputs(tx: &mut Tx<'_>, run: Uuid) -> Result<RunOutputs, StoreError> {
    let rows = tx
        .query(
            "SELECT output_notebook, output_html FROM runs WHERE id = $1",
            &[Param::text(run.to_string())],
        )
        .await?;
    let row = rows.first().ok_or(StoreError::RunNotFound(run))?;
    Ok(RunOutputs {
        notebook: row.opt_text(0)?.map(str::to_owned),
        html: row.opt_text(1)?.map(str::to_owned),
    })
}

async fn add_finding(
    tx: &mut Tx<'_>,
    run: Uuid,
    new: NewFinding,
    triage_incident: Option<String>,
    options: Arc<StoreOptions>,
) -> Result<Finding, StoreError> {
    // The run must exist; its job and notebook come with it.
    select_run(tx, run, None).await?;
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO findings (id, run_id, description, severity, entities, warnings, \
         triage_incident, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Param::text(id.to_string()),
            Param::text(run.to_string()),
            Param::text(new.description),
            Param::text(new.severity.as_str()),
            Param::text(new.entities.to_string()),
            Param::text(serde_json::Value::from(new.warnings).to_string()),
            Param::Text(triage_incident),
            Param::time(options.clock.now()),
        ],
    )
    .await?;
    select_finding(tx, id).await
}

async fn findings(tx: &mut Tx<'_>, filter: FindingFilter) -> Result<Vec<Finding>, StoreError> {
    let sql = format!(
        "SELECT {FINDING_COLUMNS} FROM {FINDINGS} \
         WHERE (CAST($1 AS TEXT) IS NULL OR f.run_id = $1) \
         AND (CAST($2 AS TEXT) IS NULL OR j.notebook = $2) \
         ORDER BY f.created_at DESC, f.seq DESC LIMIT $3"
    );
    let params = [
        Param::Text(filter.run.map(|r| r.to_string())),
        Param::Text(filter.notebook),
        limit(filter.limit),
    ];
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(finding_from_row)
        .collect()
}

impl JobStore {
    /// Record where a run's outputs were stored.
    pub async fn record_outputs(&self, run: Uuid, outputs: RunOutputs) -> Result<(), StoreError> {
        self.transact(true, move |tx| Box::pin(record_outputs(tx, run, outputs)))
            .await
    }

    /// Where a run's outputs were stored (both `None` before they were).
    pub async fn run_outputs(&self, run: Uuid) -> Result<RunOutputs, StoreError> {
        self.transact(false, move |tx| Box::pin(run_outputs(tx, run)))
            .await
    }

    /// Store the finding a run reported; `triage_incident` is the incident that
    /// triggered the run when its notebook triages.
    pub async fn add_finding(
        &self,
        run: Uuid,
        finding: NewFinding,
        triage_incident: Option<String>,
    ) -> Result<Finding, StoreError> {
        let options = self.options.clone();
        self.transact(true, move |tx| {
            Box::pin(add_finding(tx, run, finding, triage_incident, options))
        })
        .await
    }

    /// One finding.
    pub async fn finding(&self, id: Uuid) -> Result<Finding, StoreError> {
        self.transact(false, move |tx| Box::pin(select_finding(tx, id)))
            .await
    }

    /// Findings, newest first.
    pub async fn findings(&self, filter: FindingFilter) -> Result<Vec<Finding>, StoreError> {
        self.transact(false, move |tx| Box::pin(findings(tx, filter)))
            .await
    }
}
