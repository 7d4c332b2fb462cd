//! `swarmctl standup run|list|show` (being written).

use super::{Failure, Result, Target};
use crate::cli::StandupCommand;

pub(crate) async fn run(_target: &Target, _cmd: StandupCommand) -> Result<()> {
    Err(Failure(
        crate::exit::FAILED,
        "standups are being written".into(),
    ))
}
