//! The upstream simulator: a stateful, in-process or standalone imitation of the Aarthik Labs
//! headless API (../shared/upstream/CONTRACT.md). Being built; see issue 3.
