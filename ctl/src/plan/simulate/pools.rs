//! `plan simulate --pool NAME=CONCURRENCY[/PER_MINUTE] --default-pool
//! NAME`: the pools of a rate-limited API a simulated run respects, and
//! which pool each task draws on (its `**Pool**`, else its first role's
//! profile `pool`, else the default pool).

use std::collections::BTreeMap;

use swarm_plan::model::parse_pool;
use swarm_plan::simulate::{ApiPools, PoolLimit};
use swarm_plan::{Catalogue, CompiledPlan};

/// The valid form of `--pool`, for error messages.
const POOL_FORM: &str = "write it like --pool anthropic=2 (concurrency), --pool anthropic=2/50 (concurrency and starts per minute) or --pool anthropic=/50 (starts per minute only); counts are whole numbers of 1 or more";

/// What `plan simulate` was told about pools.
pub(crate) struct PoolArgs<'a> {
    /// Each `--pool` given.
    pub(crate) specs: &'a [String],
    /// `--default-pool`.
    pub(crate) default_pool: &'a str,
    /// The roles the plan was checked against, whose profiles may name a
    /// pool.
    pub(crate) catalogue: Option<&'a Catalogue>,
}

impl PoolArgs<'_> {
    /// The pools of `plan`'s tasks, or what is wrong with a flag.
    pub(crate) fn resolve(&self, plan: &CompiledPlan) -> Result<ApiPools, String> {
        let default = parse_pool(self.default_pool).map_err(|e| format!("--default-pool: {e}"))?;
        let limits = parse_pools(self.specs)?;
        let profile =
            |role: &str| (self.catalogue?.get(role)).and_then(|info| info.profile.pool.clone());
        Ok(ApiPools::new(plan, &limits, profile, &default))
    }
}

/// Every `--pool` as limits per pool name.
fn parse_pools(specs: &[String]) -> Result<BTreeMap<String, PoolLimit>, String> {
    let mut out = BTreeMap::new();
    let pieces = (specs.iter())
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty());
    for piece in pieces {
        let Some((name, limits)) = piece.split_once('=') else {
            return Err(format!("--pool: '{piece}' is not NAME=LIMITS; {POOL_FORM}"));
        };
        let name = parse_pool(name).map_err(|e| format!("--pool: '{piece}': {e}"))?;
        let (concurrency, per_minute) = match limits.split_once('/') {
            Some((c, r)) => (count(c, piece)?, count(r, piece)?),
            None => (count(limits, piece)?, None),
        };
        if concurrency.is_none() && per_minute.is_none() {
            return Err(format!("--pool: '{piece}' sets no limit; {POOL_FORM}"));
        }
        let limit = PoolLimit {
            concurrency,
            per_minute,
        };
        if out.insert(name.clone(), limit).is_some() {
            return Err(format!(
                "--pool: pool {name} is given twice; give each pool once"
            ));
        }
    }
    Ok(out)
}

/// One count of a `--pool`: empty for no limit, else 1 or more.
fn count(text: &str, piece: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Some(n)),
        _ => Err(format!(
            "--pool: '{piece}': '{text}' is not a count of 1 or more; {POOL_FORM}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(specs: &[&str]) -> Result<BTreeMap<String, PoolLimit>, String> {
        parse_pools(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn limit(concurrency: Option<u32>, per_minute: Option<u32>) -> PoolLimit {
        PoolLimit {
            concurrency,
            per_minute,
        }
    }

    #[test]
    fn pools_parse_in_each_form() {
        let got = parse(&["api=2/50", "b=3, c=/10"]).expect("valid");
        assert_eq!(got["api"], limit(Some(2), Some(50)));
        assert_eq!(got["b"], limit(Some(3), None));
        assert_eq!(got["c"], limit(None, Some(10)));
    }

    #[test]
    fn bad_pools_say_what_and_how() {
        for (spec, says) in [
            ("api", "is not NAME=LIMITS"),
            ("api=0", "'0' is not a count of 1 or more"),
            ("api=two", "'two' is not a count"),
            ("api=/", "sets no limit"),
            ("a b=2", "malformed pool 'a b'"),
            ("api=1,api=2", "pool api is given twice"),
        ] {
            let e = parse(&[spec]).expect_err(spec);
            assert!(e.contains(says), "{spec}: {e}");
            assert!(e.starts_with("--pool: "), "{e}");
        }
    }
}
