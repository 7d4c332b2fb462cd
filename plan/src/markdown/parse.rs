//! One pass over the lines of a markdown plan. The parser keeps a small
//! cursor (which section, day, task and field it is in) and hands each line
//! to the part that owns it: headings open days and sections, task lines
//! and their bullets go to [`super::task`], checklists become exit
//! criteria, a bold `**Name (N hours)**` line inside a day opens a window
//! (the checkboxes right under it are its checklist; the tasks after it,
//! until the next window or day, sit in it), table rows become the
//! allocation matrix, and headings under the Coordination Protocol become
//! checkpoints. It never recurses, so no
//! nesting depth can exhaust the stack, and it never panics on any input.

use super::lines::{self, TaskHeader};
use super::matrix::MatrixColumns;
use super::phrases::{clip, split_check, split_checkpoint, split_trailing_duration};
use super::task::TaskCursor;
use crate::diagnostic::{Sink, SourceMap};
use crate::fields::parse_duration;
use crate::model::{Checkpoint, Criterion, Day, Plan, RoleLists, Window};
use crate::Parsed;

/// Which part of the document the cursor is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before the first `##` heading: the title and its properties.
    Preamble,
    /// Anywhere else that is not one of the sections below.
    Plain,
    /// The agent allocation matrix, opened by a heading of this level.
    Matrix(usize),
    /// The coordination protocol, opened by a heading of this level.
    Protocol(usize),
}

pub(crate) struct Parser {
    pub(crate) plan: Plan,
    pub(crate) map: SourceMap,
    pub(crate) sink: Sink,
    /// Role lists shared between tasks.
    roles: RoleLists,
    section: Section,
    /// Heading level of the first day heading; a heading at this level or
    /// above that is not a day ends the days.
    day_level: Option<usize>,
    current_day: Option<u32>,
    /// Index of the open window in the last day's windows; tasks read now
    /// sit in it. Only a new window or the end of the day closes it.
    window: Option<usize>,
    /// Checkbox bullets now go to the open window's checklist (until a
    /// task, a prose line or another block starts).
    window_checklist: bool,
    task: Option<TaskCursor>,
    /// Index of the day whose exit criteria are being listed.
    exit_day: Option<usize>,
    /// Index of the checkpoint whose agenda is being listed.
    checkpoint: Option<usize>,
    /// The open code fence, if any.
    fence: Option<(char, usize)>,
    matrix_columns: Option<MatrixColumns>,
}

/// Parses a markdown plan. Never fails: problems are reported in the
/// returned diagnostics, and the plan holds whatever could be read.
pub fn parse(text: &str, file: &str) -> Parsed {
    let mut parser = Parser {
        plan: Plan::default(),
        map: SourceMap {
            file: file.to_string(),
            ..SourceMap::default()
        },
        sink: Sink::new(file),
        roles: RoleLists::default(),
        section: Section::Preamble,
        day_level: None,
        current_day: None,
        window: None,
        window_checklist: false,
        task: None,
        exit_day: None,
        checkpoint: None,
        fence: None,
        matrix_columns: None,
    };
    for (i, line) in text.lines().enumerate() {
        parser.line(i + 1, line);
    }
    parser.end_block();
    for day in &mut parser.plan.days {
        day.lay_out_windows();
    }
    for task in &mut parser.plan.tasks {
        task.more.compact();
    }
    if parser.plan.name.is_empty() {
        parser.plan.name = file_stem(file);
    }
    Parsed {
        plan: parser.plan,
        map: parser.map,
        diagnostics: parser.sink.found,
    }
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".to_string())
}

impl Parser {
    fn line(&mut self, n: usize, line: &str) {
        if let Some((c, len)) = self.fence {
            if lines::fence(line).is_some_and(|(c2, len2)| c2 == c && len2 >= len)
                && line.trim().chars().all(|x| x == c)
            {
                self.fence = None;
            }
            self.capture_raw(line);
            return;
        }
        if let Some(f) = lines::fence(line) {
            self.fence = Some(f);
            self.capture_raw(line);
            return;
        }
        if line.trim().is_empty() {
            return;
        }
        if let Some((level, text)) = lines::heading(line) {
            self.heading(n, level, text);
            return;
        }
        if lines::is_rule(line) {
            self.end_block();
            return;
        }
        let (indent, text, is_bullet) = match lines::bullet(line) {
            Some((indent, text)) => (indent, text, true),
            None => (lines::indent_of(line), line.trim(), false),
        };
        if let Section::Matrix(_) = self.section {
            if let Some(cells) = lines::table_cells(line) {
                self.matrix_row(n, &cells);
                return;
            }
        }
        match lines::task_header(text, false) {
            TaskHeader::Yes(id, title) => return self.start_task(n, id, title),
            TaskHeader::BadId(word) => {
                self.end_block();
                self.sink.error(n, format!("malformed task id '{}': expected numbers joined by dots, like 'Task 1.2' or 'Task 3.2.1'", clip(&word)));
                return;
            }
            TaskHeader::No => {}
        }
        if let Some(task) = self.task.as_mut() {
            if task.line(
                &mut self.plan,
                &mut self.sink,
                n,
                line,
                indent,
                text,
                is_bullet,
            ) {
                return;
            }
            self.end_block();
        }
        self.outside_task(n, text, is_bullet);
    }

    /// A line that no task claims.
    fn outside_task(&mut self, n: usize, text: &str, is_bullet: bool) {
        if let Some((name, value)) = lines::bold_field(text) {
            if let Some(day) = lines::exit_criteria(name) {
                return self.start_exit_criteria(n, day);
            }
            if !is_bullet && self.section == Section::Preamble && self.plan.days.is_empty() {
                self.plan
                    .properties
                    .insert(name.to_string(), value.to_string());
                return;
            }
        }
        if lines::is_bold_only(text) {
            self.end_block();
            if let Section::Protocol(_) = self.section {
                self.checkpoint_heading(text.trim_matches('*'));
            } else if !is_bullet && self.section == Section::Plain && self.current_day.is_some() {
                self.window_heading(n, text);
            }
            return;
        }
        if !is_bullet {
            self.exit_day = None;
            self.window_checklist = false;
            return;
        }
        if let Some(day) = self.exit_day {
            let (done, body) = lines::checkbox(text).unwrap_or((false, text));
            let (text, check) = split_check(body);
            self.plan.days[day]
                .exit_criteria
                .push(Criterion { text, done, check });
        } else if let (true, Some(w), Some((done, body))) =
            (self.window_checklist, self.window, lines::checkbox(text))
        {
            let (text, check) = split_check(body);
            if let Some(window) = self.plan.days.last_mut().and_then(|d| d.windows.get_mut(w)) {
                window.checklist.push(Criterion { text, done, check });
            }
        } else if let Some(cp) = self.checkpoint {
            self.plan.checkpoints[cp].agenda.push(text.to_string());
        }
    }

    /// Lines inside (or opening/closing) a code fence.
    fn capture_raw(&mut self, line: &str) {
        if let Some(task) = self.task.as_mut() {
            task.raw(&mut self.plan, line);
        }
    }

    /// Ends the open task, exit-criteria list and checkpoint agenda.
    pub(crate) fn end_block(&mut self) {
        if let Some(task) = self.task.take() {
            task.finish(&mut self.plan, &mut self.map, &mut self.sink);
            // The task just finished is the last one.
            if let Some(t) = self.plan.tasks.last_mut() {
                self.roles.share_agents(&mut t.agents);
            }
        }
        self.exit_day = None;
        self.checkpoint = None;
        self.window_checklist = false;
    }

    /// A bold line alone inside a day: a window when it reads like
    /// `**Morning Sprint (4 hours)**`. A length that names hours or minutes
    /// but cannot be read is an error; any other bold line is prose.
    fn window_heading(&mut self, n: usize, text: &str) {
        let Some((name, length)) = lines::window_heading(text) else {
            return;
        };
        let duration = match parse_duration(length) {
            Ok(d) => d,
            Err(message) => {
                let lower = length.to_ascii_lowercase();
                if lower.contains("hour") || lower.contains("min") {
                    self.sink
                        .error(n, format!("window '{}': {message}", clip(name)));
                }
                return;
            }
        };
        let Some(day) = self.plan.days.last_mut() else {
            return;
        };
        day.windows.push(Window {
            name: name.to_string(),
            duration,
            ..Window::default()
        });
        self.window = Some(day.windows.len() - 1);
        self.window_checklist = true;
    }

    fn heading(&mut self, n: usize, level: usize, text: &str) {
        self.end_block();
        if level == 1 && self.plan.name.is_empty() {
            self.plan.name = text.trim_matches('*').trim().to_string();
            return;
        }
        match self.section {
            Section::Protocol(l) if level > l => return self.checkpoint_heading(text),
            Section::Matrix(l) if level > l => return,
            _ => self.section = Section::Plain,
        }
        if let Some((number, rest)) = lines::day_heading(text) {
            return self.start_day(n, level, number, rest);
        }
        if let Some(day) = lines::exit_criteria(text.trim_matches('*')) {
            return self.start_exit_criteria(n, day);
        }
        match lines::task_header(text, true) {
            TaskHeader::Yes(id, title) => return self.start_task(n, id, title),
            TaskHeader::BadId(word) => {
                self.sink.error(
                    n,
                    format!(
                        "malformed task id '{}': expected numbers joined by dots, like 'Task 1.2'",
                        clip(&word)
                    ),
                );
                return;
            }
            TaskHeader::No => {}
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("allocation matrix") {
            self.section = Section::Matrix(level);
            self.matrix_columns = None;
        } else if lower.contains("coordination protocol") || lower.contains("checkpoints") {
            self.section = Section::Protocol(level);
        }
        if self.day_level.is_some_and(|d| level <= d) {
            self.current_day = None;
            self.window = None;
        }
    }

    fn start_day(&mut self, n: usize, level: usize, number: u32, rest: &str) {
        let (title, duration) = split_trailing_duration(rest);
        self.plan.days.push(Day {
            number,
            title,
            duration,
            ..Day::default()
        });
        self.map.days.push(n);
        self.day_level.get_or_insert(level);
        self.current_day = Some(number);
        self.window = None;
    }

    fn start_task(&mut self, n: usize, id: String, title: String) {
        self.end_block();
        self.task = Some(TaskCursor::start(
            &mut self.plan,
            &mut self.map,
            n,
            id,
            title,
            self.current_day,
            self.window,
        ));
    }

    fn start_exit_criteria(&mut self, n: usize, day: Option<u32>) {
        self.end_block();
        let Some(number) = day.or(self.current_day) else {
            self.sink.warning(n, "exit criteria outside any day are ignored; write them as '**Day N Exit Criteria**:'");
            return;
        };
        match self.plan.days.iter().position(|d| d.number == number) {
            Some(i) => self.exit_day = Some(i),
            None => self.sink.warning(n, format!("exit criteria for day {number}, which has no '### Day {number}: Title' heading, are ignored")),
        }
    }

    fn checkpoint_heading(&mut self, text: &str) {
        self.checkpoint = None;
        if let Some((name, minute_of_day)) = split_checkpoint(text) {
            self.plan.checkpoints.push(Checkpoint {
                name,
                minute_of_day,
                agenda: Vec::new(),
            });
            self.checkpoint = Some(self.plan.checkpoints.len() - 1);
        }
    }

    /// A row of the allocation matrix table: the first names the columns.
    fn matrix_row(&mut self, n: usize, cells: &[&str]) {
        if lines::is_table_rule(cells) {
            return;
        }
        let Some(columns) = self.matrix_columns else {
            self.matrix_columns = Some(MatrixColumns::find(cells));
            return;
        };
        match columns.row(cells) {
            Ok(row) => {
                self.plan.matrix.push(row);
                self.map.matrix.push(n);
            }
            Err(message) => self.sink.warning(n, message),
        }
    }
}
