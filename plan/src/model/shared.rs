//! Role lists shared between the tasks that name the same roles: one
//! allocation per distinct list instead of two or more per task (a
//! million-task plan of one role kept a million copies of it, twice: as
//! written and resolved).

use std::collections::HashSet;
use std::sync::Arc;

use super::Agents;

/// The distinct role lists seen so far; each is handed out shared.
#[derive(Debug, Default)]
pub(crate) struct RoleLists(HashSet<Arc<[String]>>);

impl RoleLists {
    /// The shared list equal to `roles`.
    pub(crate) fn share(&mut self, roles: &[String]) -> Arc<[String]> {
        if let Some(shared) = self.0.get(roles) {
            return shared.clone();
        }
        let shared: Arc<[String]> = roles.into();
        self.0.insert(shared.clone());
        shared
    }

    /// Makes a task's role phrases the shared list equal to them.
    pub(crate) fn share_agents(&mut self, agents: &mut Agents) {
        if let Agents::Roles(roles) = agents {
            *roles = self.share(roles);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_lists_are_one_allocation() {
        let mut lists = RoleLists::default();
        let a = lists.share(&["coder".to_string()]);
        let mut b = Agents::Roles(Arc::from(vec!["coder".to_string()]));
        lists.share_agents(&mut b);
        let Agents::Roles(b) = b else {
            panic!("still roles")
        };
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &lists.share(&["sre".to_string()])));
    }
}
