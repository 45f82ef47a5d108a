//! The local incident sink: a numbered incident in the job store's `incidents` table,
//! which the dashboard, the API and the local-incident poller read. The default sink.

use std::sync::Arc;

use super::{IncidentSink, SinkFuture};
use crate::findings::Finding;
use crate::store::JobStore;

/// Raises incidents in the job store.
#[derive(Debug, Clone)]
pub struct LocalSink {
    store: Arc<JobStore>,
}

impl LocalSink {
    pub fn new(store: Arc<JobStore>) -> LocalSink {
        LocalSink { store }
    }
}

impl IncidentSink for LocalSink {
    fn name(&self) -> &str {
        "local"
    }

    fn deliver<'a>(&'a self, finding: &'a Finding) -> SinkFuture<'a> {
        Box::pin(async move {
            let incident = self.store.raise_incident(finding.id).await?;
            Ok(format!("local incident {}", incident.number))
        })
    }
}
