//! Instantiation order: providers before their users, deterministic, and the
//! instances of a cycle named when there is no such order.

use super::{Fate, InstancePlan};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

/// Providers before users (Kahn's algorithm, ties broken by spec order so the
/// output is deterministic). On a cycle, returns the instances in one cycle.
pub(super) fn topological_order(instances: &[InstancePlan]) -> Result<Vec<usize>, Vec<String>> {
    let index: BTreeMap<&str, usize> = instances
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let deps: Vec<BTreeSet<usize>> = instances
        .iter()
        .map(|p| {
            p.imports
                .iter()
                .filter_map(|i| match &i.fate {
                    Fate::Linked { provider, .. } => index.get(provider.as_str()).copied(),
                    _ => None,
                })
                .collect()
        })
        .collect();
    // Always the lowest-index ready instance next: a min-heap of ready ones.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); instances.len()];
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    for (i, d) in deps.iter().enumerate() {
        for &p in d {
            users[p].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..instances.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut done = vec![false; instances.len()];
    let mut order = Vec::new();
    while order.len() < instances.len() {
        match ready.pop() {
            Some(Reverse(i)) => {
                done[i] = true;
                order.push(i);
                for &u in &users[i] {
                    waiting[u] -= 1;
                    if waiting[u] == 0 {
                        ready.push(Reverse(u));
                    }
                }
            }
            None => return Err(find_cycle(&deps, &done, instances)),
        }
    }
    Ok(order)
}

/// The instances of one cycle among those not `done`, the first repeated at
/// the end.
fn find_cycle(deps: &[BTreeSet<usize>], done: &[bool], instances: &[InstancePlan]) -> Vec<String> {
    // Every remaining node has an unfinished dependency: walk until a node repeats.
    let mut path = Vec::new();
    let mut at = (0..deps.len()).find(|&i| !done[i]).expect("a node remains");
    while !path.contains(&at) {
        path.push(at);
        at = *deps[at]
            .iter()
            .find(|&&d| !done[d])
            .expect("a remaining node has a remaining dependency");
    }
    let start = path
        .iter()
        .position(|&i| i == at)
        .expect("the repeat is on the path");
    let mut cycle: Vec<String> = path[start..]
        .iter()
        .map(|&i| instances[i].name.clone())
        .collect();
    cycle.push(instances[at].name.clone());
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::Family;
    use crate::plan::ImportPlan;

    /// An instance that imports one interface from each of `providers`.
    fn instance(name: &str, providers: &[&str]) -> InstancePlan {
        let linked = |p: &&str| ImportPlan {
            name: format!("test:{p}/api@1.0.0"),
            family: Family::Custom,
            fate: Fate::Linked {
                provider: p.to_string(),
                export: format!("test:{p}/api@1.0.0"),
            },
        };
        InstancePlan {
            name: name.into(),
            imports: providers.iter().map(linked).collect(),
            exports: Vec::new(),
            virtual_values: String::new(),
            slices: Vec::new(),
        }
    }

    #[test]
    fn providers_come_first_and_ties_keep_spec_order() {
        let instances = [
            instance("app", &["b", "a"]),
            instance("a", &[]),
            instance("b", &["a"]),
            instance("c", &[]),
        ];
        assert_eq!(topological_order(&instances), Ok(vec![1, 2, 0, 3]));
    }

    #[test]
    fn independent_instances_keep_spec_order() {
        let instances = [instance("z", &[]), instance("y", &[]), instance("x", &[])];
        assert_eq!(topological_order(&instances), Ok(vec![0, 1, 2]));
    }

    #[test]
    fn links_to_no_instance_are_no_dependency() {
        let instances = [instance("app", &["elsewhere"]), instance("lib", &[])];
        assert_eq!(topological_order(&instances), Ok(vec![0, 1]));
    }

    #[test]
    fn a_cycle_is_named_without_its_users() {
        let instances = [
            instance("app", &["a"]),
            instance("a", &["b"]),
            instance("b", &["a"]),
            instance("c", &[]),
        ];
        let cycle = topological_order(&instances).unwrap_err();
        assert_eq!(cycle, ["a", "b", "a"]);
    }

    #[test]
    fn an_instance_that_links_to_itself_is_a_cycle() {
        let instances = [instance("lib", &[]), instance("loop", &["loop"])];
        assert_eq!(topological_order(&instances).unwrap_err(), ["loop", "loop"]);
    }
}
