//! The Merkle tree of a checkpoint (ADR 0006): RFC 6962's shape over the event hashes in the
//! global order, so a checkpoint's root commits to every event up to its bound and an export
//! carries a short inclusion proof per event.
//!
//! Leaf `SHA-256(0x00 || event hash)`, node `SHA-256(0x01 || left || right)`, the root of no
//! leaves `SHA-256("")`. A tree of `n` leaves splits at the largest power of two below `n`;
//! built level by level that is "pair neighbours, carry an odd last node up unchanged".

use event_store::chain::Hash32;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The leaf hash of one event.
pub fn leaf(event_hash: &Hash32) -> Hash32 {
    let mut hasher = Sha256::new();
    hasher.update([0]);
    hasher.update(event_hash);
    hasher.finalize().into()
}

/// The hash of an inner node.
pub fn node(left: &Hash32, right: &Hash32) -> Hash32 {
    let mut hasher = Sha256::new();
    hasher.update([1]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree.
pub fn empty_root() -> Hash32 {
    Sha256::digest([]).into()
}

/// The root of a growing tree, kept as its perfect subtrees (at most one per bit of the leaf
/// count), so the root of every prefix is at hand in O(log n) while the leaves stream past.
#[derive(Debug, Clone, Default)]
pub struct Peaks {
    /// Perfect subtrees, largest (leftmost) first, with their heights.
    peaks: Vec<(u32, Hash32)>,
    leaves: u64,
}

impl Peaks {
    /// Appends the leaf of `event_hash`.
    pub fn push(&mut self, event_hash: &Hash32) {
        let mut carry = (0, leaf(event_hash));
        while let Some(&(height, left)) = self.peaks.last() {
            if height != carry.0 {
                break;
            }
            self.peaks.pop();
            carry = (height + 1, node(&left, &carry.1));
        }
        self.peaks.push(carry);
        self.leaves += 1;
    }

    /// The leaves pushed.
    pub fn len(&self) -> u64 {
        self.leaves
    }

    /// Whether no leaf was pushed.
    pub fn is_empty(&self) -> bool {
        self.leaves == 0
    }

    /// The root of the leaves pushed so far: the peaks folded from the right.
    pub fn root(&self) -> Hash32 {
        let mut peaks = self.peaks.iter().rev();
        match peaks.next() {
            None => empty_root(),
            Some(&(_, last)) => peaks.fold(last, |right, (_, left)| node(left, &right)),
        }
    }
}

/// Which side a proof's sibling is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The sibling is the left child.
    Left,
    /// The sibling is the right child.
    Right,
}

/// One step of an inclusion proof, from the leaf up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofStep {
    /// Where the sibling is.
    pub side: Side,
    /// The sibling's hash, hex.
    #[serde(with = "crate::hex32")]
    pub hash: Hash32,
}

/// A whole tree, every level in memory (32 bytes a node, about 2n nodes), for proofs.
#[derive(Debug, Clone)]
pub struct Tree {
    /// `levels[0]` are the leaves, the last level is the root.
    levels: Vec<Vec<Hash32>>,
}

impl Tree {
    /// The tree over `event_hashes`, in order.
    pub fn new(event_hashes: &[Hash32]) -> Tree {
        let mut levels = vec![event_hashes.iter().map(leaf).collect::<Vec<_>>()];
        while let Some(below) = levels.last().filter(|level| level.len() > 1) {
            let above = below
                .chunks(2)
                .map(|pair| match pair {
                    [left, right] => node(left, right),
                    // `chunks(2)`: otherwise a single odd last node, carried up unchanged.
                    _ => pair[0],
                })
                .collect();
            levels.push(above);
        }
        Tree { levels }
    }

    /// The root.
    pub fn root(&self) -> Hash32 {
        match self.levels.last().and_then(|level| level.first()) {
            Some(root) => *root,
            None => empty_root(),
        }
    }

    /// The proof that leaf `index` is in the tree, or `None` when there is no such leaf.
    pub fn proof(&self, index: usize) -> Option<Vec<ProofStep>> {
        if index >= self.levels.first().map_or(0, Vec::len) {
            return None;
        }
        let mut steps = Vec::new();
        let mut index = index;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = index ^ 1;
            if let Some(hash) = level.get(sibling) {
                let side = if sibling < index {
                    Side::Left
                } else {
                    Side::Right
                };
                steps.push(ProofStep { side, hash: *hash });
            }
            index /= 2;
        }
        Some(steps)
    }
}

/// The root that `proof` leads to from the event hash `event_hash`.
pub fn root_from_proof(event_hash: &Hash32, proof: &[ProofStep]) -> Hash32 {
    proof
        .iter()
        .fold(leaf(event_hash), |hash, step| match step.side {
            Side::Left => node(&step.hash, &hash),
            Side::Right => node(&hash, &step.hash),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashes(n: u8) -> Vec<Hash32> {
        (0..n).map(|i| [i; 32]).collect()
    }

    /// RFC 6962's recursive definition, to check the two fast ones against.
    fn rfc6962_root(leaves: &[Hash32]) -> Hash32 {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf(&leaves[0]),
            n => {
                let split = n.next_power_of_two() / 2;
                node(
                    &rfc6962_root(&leaves[..split]),
                    &rfc6962_root(&leaves[split..]),
                )
            }
        }
    }

    #[test]
    fn streamed_peaks_levels_and_the_rfc_definition_agree_for_every_size() {
        for n in 0..70 {
            let leaves = hashes(n);
            let mut peaks = Peaks::default();
            leaves.iter().for_each(|hash| peaks.push(hash));
            let expected = rfc6962_root(&leaves);
            assert_eq!(peaks.root(), expected, "peaks, {n} leaves");
            assert_eq!(Tree::new(&leaves).root(), expected, "levels, {n} leaves");
        }
    }

    #[test]
    fn every_proof_leads_to_the_root_and_a_changed_leaf_does_not() {
        for n in 1..40 {
            let leaves = hashes(n);
            let tree = Tree::new(&leaves);
            for (index, hash) in leaves.iter().enumerate() {
                let proof = tree.proof(index).expect("a leaf of the tree");
                assert_eq!(root_from_proof(hash, &proof), tree.root());
                assert_ne!(root_from_proof(&[0xff; 32], &proof), tree.root());
            }
            assert_eq!(tree.proof(leaves.len()), None);
        }
    }
}
