//! Listing tasks in pages: the filter is the loop's, a page looks at a
//! bounded number of tasks, a listing resumes where its page ended and
//! sees each task once, and a listing whose plan was replaced ends with
//! an error instead of mixing two plans.

use crate::listing::{list, PageQuery, PageStart, TaskFilter, TaskPage, MAX_SCAN};
use crate::model::TaskState;
use crate::testkit::{plan, Harness};
use crate::CoreError;

fn page(h: &mut Harness, filter: &TaskFilter, start: PageStart, limit: usize) -> TaskPage {
    let q = PageQuery {
        filter: filter.clone(),
        start,
        limit,
    };
    h.ask(|reply| list(q, reply)).expect("a page")
}

/// Every task that passes `filter`, page by page of `limit`; and the
/// number of pages.
fn walk(h: &mut Harness, filter: &TaskFilter, limit: usize) -> (Vec<String>, usize) {
    let (mut ids, mut pages) = (Vec::new(), 0);
    let mut start = PageStart::First;
    loop {
        let p = page(h, filter, start, limit);
        pages += 1;
        ids.extend(p.tasks.into_iter().map(|t| t.id));
        match p.next {
            Some(c) => start = PageStart::Resume(c),
            None => return (ids, pages),
        }
    }
}

#[test]
fn pages_walk_the_plan_in_order_once_with_the_filter_applied() {
    let mut h = Harness::new();
    // 1.1 and 1.3 are ready for a coder; 1.2 waits for 1.1; 1.4 needs QA.
    h.load(&plan(&[
        ("1.1", "Coder", "P1", 1, ""),
        ("1.2", "Coder", "P1", 1, "Task 1.1"),
        ("1.3", "Coder", "P1", 1, ""),
        ("1.4", "QA Engineer", "P1", 1, ""),
    ]))
    .expect("loads");
    let every = TaskFilter::default();
    assert_eq!(
        walk(&mut h, &every, 1),
        (
            vec!["1.1".into(), "1.2".into(), "1.3".into(), "1.4".into()],
            4
        )
    );
    assert_eq!(walk(&mut h, &every, 1000).1, 1);
    let ready = TaskFilter {
        state: Some(TaskState::Ready),
        role: None,
    };
    assert_eq!(walk(&mut h, &ready, 1).0, ["1.1", "1.3", "1.4"]);
    let ready_coders = TaskFilter {
        state: Some(TaskState::Ready),
        role: Some("coder".into()),
    };
    assert_eq!(walk(&mut h, &ready_coders, 2).0, ["1.1", "1.3"]);
    let qa = TaskFilter {
        state: None,
        role: Some("qa".into()),
    };
    assert_eq!(walk(&mut h, &qa, 10).0, ["1.4"]);

    let after = page(&mut h, &every, PageStart::After("1.2".into()), 10);
    let ids: Vec<_> = after.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!((ids, after.next), (vec!["1.3", "1.4"], None));
    let unknown = h.ask(|reply| {
        list(
            PageQuery {
                filter: every.clone(),
                start: PageStart::After("9.9".into()),
                limit: 10,
            },
            reply,
        )
    });
    assert!(matches!(unknown, Err(CoreError::NotFound(m)) if m.contains("9.9")));
}

#[test]
fn a_page_looks_at_a_bounded_number_of_tasks_whatever_the_filter() {
    let mut h = Harness::new();
    let tasks: Vec<(String, &str)> = (1..=MAX_SCAN + 10)
        .map(|i| {
            (
                format!("1.{i}"),
                if i == MAX_SCAN + 5 { "QA" } else { "Coder" },
            )
        })
        .collect();
    let rows: Vec<(&str, &str, &str, u32, &str)> = tasks
        .iter()
        .map(|(id, agent)| (id.as_str(), *agent, "P1", 1, ""))
        .collect();
    h.load(&plan(&rows)).expect("loads");
    let qa = TaskFilter {
        state: None,
        role: Some("qa".into()),
    };
    // The first page looks at MAX_SCAN tasks, finds none and says where
    // to go on; the second finds the one.
    let first = page(&mut h, &qa, PageStart::First, 100);
    assert!(first.tasks.is_empty());
    let next = first.next.expect("more to look at");
    let second = page(&mut h, &qa, PageStart::Resume(next), 100);
    let ids: Vec<_> = second.tasks.iter().map(|t| t.id.clone()).collect();
    assert_eq!(
        (ids, second.next),
        (vec![format!("1.{}", MAX_SCAN + 5)], None)
    );
}

#[test]
fn a_listing_of_a_replaced_plan_ends_with_an_error_and_no_plan_lists_nothing() {
    let mut h = Harness::new();
    let every = TaskFilter::default();
    let none = page(&mut h, &every, PageStart::First, 10);
    assert!(none.tasks.is_empty() && none.next.is_none());
    h.load(&plan(&[
        ("1.1", "Coder", "P1", 1, ""),
        ("1.2", "Coder", "P1", 1, ""),
    ]))
    .expect("loads");
    let first = page(&mut h, &every, PageStart::First, 1);
    let cursor = first.next.expect("a second page");
    // Plan 1 ends (both tasks done by an operator) and plan 2 replaces it.
    for id in ["1.1", "1.2"] {
        h.action(id, crate::command::TaskAction::Skip)
            .expect("skipped");
    }
    h.load(&plan(&[("1.1", "Coder", "P1", 1, "")]))
        .expect("loads");
    let stale = h.ask(|reply| {
        list(
            PageQuery {
                filter: every.clone(),
                start: PageStart::Resume(cursor),
                limit: 10,
            },
            reply,
        )
    });
    assert!(
        matches!(&stale, Err(CoreError::Conflict(m)) if m.contains("replaced") && m.contains("list them again")),
        "{:?}",
        stale.as_ref().err()
    );
}
