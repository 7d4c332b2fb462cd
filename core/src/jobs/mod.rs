//! The messages the core sends to its workers after each commit (and the
//! notices one worker sends back). The core defines them; the workers
//! import the core, never the reverse.

pub mod gates;
pub mod guides;
pub mod memory;
pub mod merge;
pub mod provision;
pub mod report;
pub mod results;

pub use gates::GateJob;
pub use guides::GuideJob;
pub use memory::Notice;
pub use merge::{MergeJob, MergeNotice, MergeWork};
pub use provision::ProvisionCmd;
pub use report::{ChecklistJob, CriterionJob, InProgress, ReportJob, RoleRow};
pub use results::{ResultJob, NAMESPACE};
