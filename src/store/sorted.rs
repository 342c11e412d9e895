//! The in-memory sorted index (the twin of a Redis sorted set) behind `MemoryStore`'s `index_*`
//! calls. Members are ordered by score, then by member bytes — the order Redis keeps — so both
//! stores page through equal scores the same way.

use std::collections::{BTreeSet, HashMap};

#[derive(Default)]
pub(super) struct SortedIndex {
    by_score: BTreeSet<(i64, String)>,
    scores: HashMap<String, i64>,
}

impl SortedIndex {
    /// Put `member` at `score` (moving it when present), then drop the lowest scores beyond `max_len`.
    pub(super) fn put(&mut self, member: &str, score: i64, max_len: usize) {
        if let Some(old) = self.scores.insert(member.to_owned(), score) {
            self.by_score.remove(&(old, member.to_owned()));
        }
        self.by_score.insert((score, member.to_owned()));
        while self.by_score.len() > max_len.max(1) {
            if let Some(lowest) = self.by_score.pop_first() {
                self.scores.remove(&lowest.1);
            }
        }
    }

    pub(super) fn remove(&mut self, member: &str) {
        if let Some(old) = self.scores.remove(member) {
            self.by_score.remove(&(old, member.to_owned()));
        }
    }

    pub(super) fn len(&self) -> usize {
        self.scores.len()
    }

    pub(super) fn score(&self, member: &str) -> Option<i64> {
        self.scores.get(member).copied()
    }

    /// Up to `limit` members scored at most `max_score`, lowest score first.
    pub(super) fn asc_upto(&self, max_score: i64, limit: usize) -> Vec<String> {
        self.by_score
            .iter()
            .take_while(|(score, _)| *score <= max_score)
            .take(limit)
            .map(|(_, member)| member.clone())
            .collect()
    }

    /// Scores at most `max_score`, highest first (equal scores: member descending).
    pub(super) fn desc(&self, max_score: i64, offset: usize, limit: usize) -> Vec<(String, i64)> {
        let upto: Box<dyn DoubleEndedIterator<Item = &(i64, String)>> =
            match max_score.checked_add(1) {
                Some(bound) => Box::new(self.by_score.range(..(bound, String::new()))),
                None => Box::new(self.by_score.iter()),
            };
        upto.rev()
            .skip(offset)
            .take(limit)
            .map(|(score, member)| (member.clone(), *score))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::SortedIndex;

    #[test]
    fn pages_highest_first_with_ties_by_member_descending_and_trims_the_lowest() {
        let mut ix = SortedIndex::default();
        for (m, s) in [("a", 5), ("b", 5), ("c", 7), ("d", 1)] {
            ix.put(m, s, 10);
        }
        ix.put("d", 9, 10);
        let all: Vec<_> = ix.desc(i64::MAX, 0, 10);
        assert_eq!(
            all,
            [("d", 9), ("c", 7), ("b", 5), ("a", 5)].map(|(m, s)| (m.to_owned(), s))
        );
        assert_eq!(ix.desc(6, 1, 10), [("a".to_owned(), 5)]);
        ix.put("e", 0, 3);
        assert_eq!(ix.desc(i64::MAX, 0, 10).len(), 3, "e and a trimmed");
        assert!(ix.desc(4, 0, 10).is_empty());
        ix.remove("d");
        assert_eq!(ix.desc(i64::MAX, 0, 1), [("c".to_owned(), 7)]);
    }
}
