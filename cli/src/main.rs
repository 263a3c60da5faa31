//! `parapet`: the guard engine from the command line.
//!
//! - `parapet scan [--config FILE] [--scores] < in.jsonl > out.jsonl` — one verdict line per
//!   input line; `--scores` adds each model detector's score (`"scores": {"injection_model": …}`).
//!   Input lines are `{"text": "..."}` (scanned as one user message),
//!   `{"request": <chat-completion request or MCP JSON-RPC message>}` (the `llm_input` or
//!   `mcp_pre_tool` guards), `{"response": <chat-completion response or JSON-RPC result>}` (the
//!   `llm_output` or `mcp_post_tool` guards), or both in one row (the response is read as the
//!   answer to that request: MCP ids matched, reversible masks restored). Output lines, in
//!   order: `{"decision": "allow"|"audit"|"mask"|"block"|"skipped", "findings": [...]}`, each
//!   finding `{"guard", "detector", "tier", "category", "kind", "start", "end", "score", "slot"}`;
//!   `start`/`end` are byte offsets into the text (or into the slot named by `slot`). A verdict
//!   that rewrites adds `"body"` (the rewritten request/response, or the masked text); a row
//!   with both adds `"request"` (the request's verdict). A verdict with texts only the heavy
//!   tier can settle (tier 3, `on_uncertain: escalate` or `similarity`; not run by the CLI)
//!   adds `"pending": [{"guard", "model", "tier2_score", "slot", ...}]`. A line that is not valid input yields
//!   `{"error": "..."}` and the exit status is 1 at the end.
//! - `parapet stream [--config FILE] [--request FILE] [--split N,M,...] < transcript.sse >
//!   client_view.sse` — run the response stream guard over a raw upstream SSE transcript, fed in
//!   pieces cut at the given byte offsets (or in one piece), and write exactly the bytes the
//!   client would receive. `--request` names the request body the stream answers (an MCP
//!   request selects the MCP stream guard; reversible masks are restored); `--no-finish` leaves
//!   the stream open (what the client has seen so far, held events still held).
//! - `parapet validate FILE` — parse and compile a config (JSON or YAML), print every error with
//!   its field path; exit 1 if there are any.
//!
//! Without `--config`, the shipped default policy (every built-in detector on) is used.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use parapet_core::config::Document;
use parapet_core::engine::{Exchange, Verdict};
use parapet_core::{Policy, PolicySet};
use serde::Serialize;
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "parapet",
    version,
    about = "Parapet LLM guardrail: offline scanning and config validation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan JSONL from stdin; write one verdict per line to stdout.
    Scan {
        /// Policy file (JSON, or YAML by extension). Default: the shipped default policy.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Which of the config's named policies to apply. Default: its `default_policy`.
        #[arg(long)]
        policy: Option<String>,
        /// Add every model detector's score to each row, even below its thresholds:
        /// `"scores": {"injection_model": 0.93}` (request side; for quality curves).
        #[arg(long)]
        scores: bool,
    },
    /// Run the SSE stream guard over an upstream transcript (stdin); write the client's bytes.
    Stream {
        /// Policy file (JSON, or YAML by extension). Default: the shipped default policy.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Which of the config's named policies to apply. Default: its `default_policy`.
        #[arg(long)]
        policy: Option<String>,
        /// Byte offsets at which to cut the input into pieces, as Envoy would deliver them.
        #[arg(long, value_delimiter = ',')]
        split: Vec<usize>,
        /// The request body (JSON) this stream answers.
        #[arg(long)]
        request: Option<PathBuf>,
        /// Leave the stream open at the end of the input: write only what the guard has
        /// released so far (what the client has seen while the upstream is still sending).
        #[arg(long)]
        no_finish: bool,
    },
    /// Print the config's JSON Schema (draft 2020-12; schema/parapet-policy.schema.json).
    Schema,
    /// Check a policy file and print every error with its field path.
    Validate {
        /// Policy file (JSON, or YAML by extension).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan {
            config,
            policy,
            scores,
        } => scan(config.as_deref(), policy.as_deref(), scores),
        Command::Stream {
            config,
            policy,
            split,
            request,
            no_finish,
        } => stream(
            config.as_deref(),
            policy.as_deref(),
            split,
            request.as_deref(),
            !no_finish,
        ),
        Command::Validate { file } => validate(&file),
        Command::Schema => serde_json::to_string_pretty(&parapet_core::schema::document_schema())
            .map(|s| {
                println!("{s}");
                ExitCode::SUCCESS
            })
            .map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parapet: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Read a config file (one policy or several named ones): YAML if its extension says so, JSON
/// otherwise.
fn load_config(path: &Path) -> Result<std::result::Result<Document, parapet_core::ConfigError>> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if yaml {
        let value: Value = serde_yaml_ng::from_slice(&raw)
            .with_context(|| format!("{}: invalid YAML", path.display()))?;
        Ok(Document::from_value(value))
    } else {
        Ok(Document::from_json(&raw))
    }
}

fn validate(path: &Path) -> Result<ExitCode> {
    let errors = match load_config(path)? {
        Err(e) => vec![e],
        Ok(doc) => match PolicySet::compile(&doc) {
            Ok(set) if !set.is_multi() => {
                let policy = set.default_policy_ref();
                println!("{}: ok ({} guards)", path.display(), policy.guards.len());
                return Ok(ExitCode::SUCCESS);
            }
            Ok(set) => {
                let each: Vec<String> = set
                    .policies()
                    .iter()
                    .map(|p| format!("{}: {} guards", p.name, p.guards.len()))
                    .collect();
                println!(
                    "{}: ok ({} policies, default `{}`; {})",
                    path.display(),
                    set.policies().len(),
                    set.default_policy_ref().name,
                    each.join("; ")
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => e.0,
        },
    };
    for e in &errors {
        println!("{}: {e}", path.display());
    }
    Ok(ExitCode::from(1))
}

#[derive(Serialize)]
struct OutFinding<'a> {
    guard: &'a str,
    detector: &'a str,
    tier: u8,
    category: &'a str,
    kind: &'a str,
    start: usize,
    end: usize,
    score: f32,
    slot: String,
}

#[derive(Serialize)]
struct OutLine<'a> {
    decision: &'a str,
    findings: Vec<OutFinding<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Box<OutLine<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scores: Option<std::collections::BTreeMap<&'static str, f32>>,
    /// Texts the heavy tier would settle (escalations); the CLI runs tiers 1 and 2 only.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pending: &'a [parapet_core::escalation::Escalation],
}

fn out_line(v: &Verdict) -> OutLine<'_> {
    OutLine {
        body: v.body.as_deref().map(|b| {
            serde_json::from_slice(b)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned()))
        }),
        request: None,
        scores: None,
        pending: &v.pending,
        decision: v.decision.as_str(),
        findings: v
            .findings
            .iter()
            .map(|f| OutFinding {
                guard: &f.guard,
                detector: f.detector,
                tier: f.tier,
                category: f.category.as_str(),
                kind: &f.kind,
                start: f.start,
                end: f.end,
                score: f.score,
                slot: f.slot.to_string(),
            })
            .collect(),
    }
}

/// The policy from `--config` (its default, or the one `--policy` names), or the shipped
/// default.
fn load_policy(config: Option<&Path>, name: Option<&str>) -> Result<std::sync::Arc<Policy>> {
    let set = match config {
        None => PolicySet::default_policy()
            .map_err(|e| anyhow::anyhow!("shipped default policy: {e}"))?,
        Some(path) => {
            let doc = load_config(path)?.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            PolicySet::compile(&doc).map_err(|e| anyhow::anyhow!("{}:\n{e}", path.display()))?
        }
    };
    match name {
        None => Ok(set.default_policy_ref().clone()),
        Some(n) => set.get(n).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "--policy {n}: the config names {}",
                set.names().collect::<Vec<_>>().join(", ")
            )
        }),
    }
}

fn stream(
    config: Option<&Path>,
    policy_name: Option<&str>,
    mut split: Vec<usize>,
    request: Option<&Path>,
    finish: bool,
) -> Result<ExitCode> {
    use std::io::Read;
    let policy = load_policy(config, policy_name)?;
    let exchange = match request {
        None => Exchange::default(),
        Some(path) => {
            let body =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let verdict = policy.evaluate_request(&body);
            eprintln!("parapet: request decision {}", verdict.decision.as_str());
            verdict.exchange
        }
    };
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("reading stdin")?;
    split.sort_unstable();
    let mut guard = parapet_core::stream::for_exchange(&exchange);
    let mut out = std::io::stdout().lock();
    let mut at = 0;
    for cut in split.into_iter().map(|c| c.min(input.len())) {
        if cut > at {
            out.write_all(&guard.push(&policy, &input[at..cut]))?;
            at = cut;
        }
    }
    out.write_all(&guard.push(&policy, &input[at..]))?;
    if finish {
        out.write_all(&guard.finish(&policy))?;
    }
    out.flush()?;
    eprintln!("parapet: stream decision {}", guard.decision().as_str());
    Ok(ExitCode::SUCCESS)
}

fn scan(config: Option<&Path>, policy_name: Option<&str>, with_scores: bool) -> Result<ExitCode> {
    let policy = load_policy(config, policy_name)?;
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = false;
    for (n, line) in stdin.lines().enumerate() {
        let line = line.context("reading stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let result = scan_line(&policy, &line);
        let scores = || with_scores.then(|| row_scores(&policy, &line));
        match result {
            Ok((v, None)) => {
                let mut row = out_line(&v);
                row.scores = scores();
                serde_json::to_writer(&mut out, &row)?
            }
            Ok((v, Some(request))) => {
                let mut row = out_line(&v);
                row.request = Some(Box::new(out_line(&request)));
                row.scores = scores();
                serde_json::to_writer(&mut out, &row)?
            }
            Err(e) => {
                failed = true;
                let msg = format!("line {}: {e}", n + 1);
                eprintln!("parapet: {msg}");
                serde_json::to_writer(&mut out, &serde_json::json!({ "error": msg }))?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One row's verdict, and the request's verdict when the row also has a response.
fn scan_line(policy: &Policy, line: &str) -> Result<(Verdict, Option<Verdict>), String> {
    let row: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    if let Some(text) = row.get("text") {
        let text = text.as_str().ok_or("`text` must be a string")?;
        return Ok((policy.evaluate_text(text), None));
    }
    let request = match row.get("request") {
        Some(request) => {
            let body = serde_json::to_vec(request).map_err(|e| e.to_string())?;
            Some(policy.evaluate_request(&body))
        }
        None => None,
    };
    match (row.get("response"), request) {
        (Some(response), request) => {
            let exchange = match &request {
                Some(r) => r.exchange.clone(),
                // A JSON-RPC response on its own: read it as the answer to a guarded call.
                None if parapet_core::mcp::is_jsonrpc(response) => Exchange {
                    mcp: Some(response_ids(response)),
                    restore: Vec::new(),
                    dialect: parapet_core::dialect::Dialect::Mcp,
                },
                None => Exchange::default(),
            };
            let body = serde_json::to_vec(response).map_err(|e| e.to_string())?;
            Ok((policy.evaluate_response(&body, &exchange), request))
        }
        (None, Some(request)) => Ok((request, None)),
        (None, None) => Err(
            "expected {\"text\": ...}, {\"request\": ...} and/or {\"response\": ...}".to_string(),
        ),
    }
}

/// The model scores of a row's text or request (empty for response-only rows).
fn row_scores(policy: &Policy, line: &str) -> std::collections::BTreeMap<&'static str, f32> {
    let Ok(row) = serde_json::from_str::<Value>(line) else {
        return Default::default();
    };
    if let Some(text) = row.get("text").and_then(Value::as_str) {
        return policy.model_scores_text(text);
    }
    match row.get("request").map(serde_json::to_vec) {
        Some(Ok(body)) => policy.model_scores(&body),
        _ => Default::default(),
    }
}

/// The ids of the messages in a JSON-RPC body (single or batch).
fn response_ids(body: &Value) -> Vec<Value> {
    let items = match body {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .filter_map(|m| m.get("id").cloned())
        .collect()
}
