//! `swarmctl budget show|set`: every budget with what it has spent, and
//! setting one while the plan runs.

use serde_json::{json, Value};
use swarm_proto::v1 as pb;

use super::{print_json, table, Result, Target};
use crate::cli::BudgetCommand;

/// Runs a `budget` subcommand.
pub(crate) async fn run(target: &Target, cmd: BudgetCommand) -> Result<()> {
    let mut client = target.control().await?;
    let (reply, as_json) = match cmd {
        BudgetCommand::Show { json } => (client.budgets(pb::BudgetsRequest {}).await?, json),
        BudgetCommand::Set { scope, usd, json } => (
            client
                .set_budget(pb::SetBudgetRequest { scope, usd })
                .await?,
            json,
        ),
    };
    let budgets = reply.into_inner().budgets;
    if as_json {
        print_json(&budgets_json(&budgets));
    } else if budgets.is_empty() {
        crate::outln!("no budget is set: [budget] plan_usd, day_usd, [budget.role] in the config, or swarmctl budget set plan|day|role:NAME USD");
    } else {
        crate::out!(
            "{}",
            table(&["BUDGET", "LIMIT", "SPENT", "STATE"], &rows(&budgets))
        );
    }
    Ok(())
}

/// `budget show --json`.
pub(crate) fn budgets_json(budgets: &[pb::BudgetInfo]) -> Value {
    budgets
        .iter()
        .map(|b| {
            json!({"scope": b.scope, "limit_usd": b.limit_usd, "spent_usd": b.spent_usd, "state": b.state, "sentence": b.sentence})
        })
        .collect::<Vec<_>>()
        .into()
}

fn rows(budgets: &[pb::BudgetInfo]) -> Vec<Vec<String>> {
    budgets
        .iter()
        .map(|b| {
            vec![
                b.scope.clone(),
                format!("${:.2}", b.limit_usd),
                format!("${:.2}", b.spent_usd),
                b.state.clone(),
            ]
        })
        .collect()
}
