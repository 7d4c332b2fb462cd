//! "Did you mean": ranks known phrases by edit distance to an unknown one.

/// Returns up to `n` distinct role names whose phrases are nearest to
/// `phrase`, nearest first. `candidates` yields (normalised phrase, role).
pub(crate) fn closest<'a>(
    phrase: &str,
    candidates: impl Iterator<Item = (&'a str, &'a str)>,
    n: usize,
) -> Vec<String> {
    // Cap the work on absurd input: only the first 64 characters matter.
    let phrase: String = phrase.chars().take(64).collect();
    let mut scored: Vec<(usize, &str, &str)> = candidates
        .map(|(candidate, role)| (distance(&phrase, candidate), candidate, role))
        .collect();
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, _, role) in scored {
        if out.len() == n {
            break;
        }
        if !out.iter().any(|r| r == role) {
            out.push(role.to_string());
        }
    }
    out
}

/// Levenshtein distance over characters, in O(len(a) * len(b)) time and
/// O(len(b)) space.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("sre", "sre"), 0);
    }

    #[test]
    fn closest_dedupes_roles() {
        let c = [
            ("devops", "devops"),
            ("devops engineer", "devops"),
            ("dba", "database"),
        ];
        assert_eq!(
            closest("devop", c.into_iter(), 2),
            vec!["devops", "database"]
        );
    }
}
