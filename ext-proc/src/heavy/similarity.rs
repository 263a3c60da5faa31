//! The known-attack database for the similarity guard: L2-normalised embeddings of attack
//! prompts from permissive sources (`models/heavy/attacks.f16`, little-endian float16, one row
//! per line of `attacks.jsonl`), searched exhaustively by cosine similarity.

use std::path::Path;

use anyhow::{bail, Context as _};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Manifest {
    dim: usize,
    count: usize,
    embeddings_file: String,
    threshold: f32,
    top_k: usize,
}

#[derive(Debug, Deserialize)]
struct Row {
    id: u32,
    text: String,
    source: String,
}

/// One nearest known attack.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    pub id: u32,
    pub score: f32,
    pub text: String,
    pub source: String,
}

pub struct AttackDb {
    dim: usize,
    vectors: Vec<f32>,
    rows: Vec<Row>,
    pub threshold: f32,
    pub top_k: usize,
}

impl AttackDb {
    pub fn load(dir: &Path) -> anyhow::Result<AttackDb> {
        let manifest_path = dir.join("similarity.json");
        let m: Manifest = serde_json::from_slice(
            &std::fs::read(&manifest_path)
                .with_context(|| format!("reading {}", manifest_path.display()))?,
        )
        .with_context(|| format!("parsing {}", manifest_path.display()))?;
        let raw = std::fs::read(dir.join(&m.embeddings_file))
            .with_context(|| format!("reading {}", m.embeddings_file))?;
        if raw.len() != m.count * m.dim * 2 {
            bail!(
                "{}: {} bytes, expected {} x {} float16",
                m.embeddings_file,
                raw.len(),
                m.count,
                m.dim
            );
        }
        let vectors = raw
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        let rows_text =
            std::fs::read_to_string(dir.join("attacks.jsonl")).context("reading attacks.jsonl")?;
        let rows = rows_text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str::<Row>)
            .collect::<Result<Vec<_>, _>>()
            .context("parsing attacks.jsonl")?;
        if rows.len() != m.count {
            bail!(
                "attacks.jsonl has {} rows, similarity.json says {}",
                rows.len(),
                m.count
            );
        }
        Ok(AttackDb {
            dim: m.dim,
            vectors,
            rows,
            threshold: m.threshold,
            top_k: m.top_k.max(1),
        })
    }

    /// A known attack's text and source by its id.
    pub fn row(&self, id: u32) -> Option<(&str, &str)> {
        self.rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.text.as_str(), r.source.as_str()))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The `top_k` nearest rows to any of `queries` (each row once, with its best score),
    /// best first.
    pub fn nearest(&self, queries: &[Vec<f32>]) -> Vec<Neighbour> {
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(self.top_k + 1);
        for (i, row) in self.vectors.chunks_exact(self.dim).enumerate() {
            let s = queries
                .iter()
                .map(|q| row.iter().zip(q).map(|(a, b)| a * b).sum::<f32>())
                .fold(f32::NEG_INFINITY, f32::max);
            if best.len() < self.top_k || s > best[best.len() - 1].0 {
                let at = best.partition_point(|(b, _)| *b >= s);
                best.insert(at, (s, i));
                best.truncate(self.top_k);
            }
        }
        best.into_iter()
            .filter_map(|(score, i)| {
                self.rows.get(i).map(|r| Neighbour {
                    id: r.id,
                    score,
                    text: r.text.clone(),
                    source: r.source.clone(),
                })
            })
            .collect()
    }
}
