//! The commit graph by position: each commit's parents as indices into the pass's commits, and an
//! order with parents before children. Introductions (a commit against its parents) and containment (a
//! bit per target commit carried from parents to children) both walk it; built once, on a thread of
//! its own while the trees are mapped (on git's history, 200k commits: a tenth of a second that no
//! longer waits in line), it spares both their lookups by id.

use super::idhash::IdMap;
use super::objects::CommitRecord;
use crate::git::Oid;

/// The pass's commits as a graph of positions (a commit's position is its index in the commits).
pub struct CommitGraph {
    /// Position of each commit by id.
    index: IdMap<Oid, u32>,
    /// Where each commit's parents start in `parents` (one more entry than commits, for the end).
    starts: Vec<u32>,
    /// The positions of the parents the database holds, commit after commit, each in its order.
    parents: Vec<u32>,
    /// Every position, each commit after its parents.
    order: Vec<u32>,
}

impl CommitGraph {
    /// The graph of `commits` (which may lack some parents: a shallow clone, a damaged database).
    pub fn of(commits: &[CommitRecord]) -> CommitGraph {
        let index: IdMap<Oid, u32> = commits
            .iter()
            .enumerate()
            .map(|(i, c)| (c.oid, i as u32))
            .collect();
        let mut starts = Vec::with_capacity(commits.len() + 1);
        let mut parents = Vec::with_capacity(commits.len() + commits.len() / 8);
        for commit in commits {
            starts.push(parents.len() as u32);
            parents.extend(commit.parents.iter().filter_map(|p| index.get(p).copied()));
        }
        starts.push(parents.len() as u32);
        let mut graph = CommitGraph {
            index,
            starts,
            parents,
            order: Vec::new(),
        };
        graph.order = graph.parents_first();
        graph
    }

    /// The position of the commit `oid`, none for one the pass did not read.
    pub fn position(&self, oid: &Oid) -> Option<u32> {
        self.index.get(oid).copied()
    }

    /// The positions of the parents of the commit at `position` that the pass read.
    pub fn parents(&self, position: u32) -> &[u32] {
        let at = position as usize;
        &self.parents[self.starts[at] as usize..self.starts[at + 1] as usize]
    }

    /// Every position, each commit after its parents.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// A post-order of the parent edges, by an explicit stack (a history is far deeper than a
    /// thread's stack).
    fn parents_first(&self) -> Vec<u32> {
        let n = self.starts.len() - 1;
        let mut order = Vec::with_capacity(n);
        // 0: not met, 1: on the stack, 2: placed.
        let mut state = vec![0u8; n];
        let mut stack: Vec<(u32, usize)> = Vec::new();
        for root in 0..n as u32 {
            if state[root as usize] != 0 {
                continue;
            }
            state[root as usize] = 1;
            stack.push((root, 0));
            while let Some((node, next)) = stack.last_mut() {
                let node = *node;
                if let Some(&parent) = self.parents(node).get(*next) {
                    *next += 1;
                    if state[parent as usize] == 0 {
                        state[parent as usize] = 1;
                        stack.push((parent, 0));
                    }
                    continue;
                }
                stack.pop();
                state[node as usize] = 2;
                order.push(node);
            }
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes")
    }

    fn commit(n: u8, parents: &[u8]) -> CommitRecord {
        CommitRecord {
            oid: id(n),
            tree: id(200),
            parents: parents.iter().map(|&p| id(p)).collect(),
            commit_time: i64::from(n),
        }
    }

    #[test]
    fn parents_come_first_and_a_missing_parent_is_left_out() {
        // Listed children first, a merge, and a parent (9) the pass never read.
        let commits = vec![
            commit(4, &[2, 3]),
            commit(3, &[1]),
            commit(2, &[1, 9]),
            commit(1, &[]),
        ];
        let graph = CommitGraph::of(&commits);
        assert_eq!(graph.parents(0), &[2, 1]);
        assert_eq!(
            graph.parents(2),
            &[3],
            "the unread parent 9 has no position"
        );
        assert_eq!(graph.position(&id(9)), None);
        let order = graph.order();
        assert_eq!(order.len(), commits.len());
        let place = |p: u32| order.iter().position(|&q| q == p).expect("placed");
        for child in 0..commits.len() as u32 {
            for &parent in graph.parents(child) {
                assert!(place(parent) < place(child), "{parent} before {child}");
            }
        }
    }
}
