//! `medmij-tls requirements`: the traceability matrix.

use super::{Format, ProfileArgs};
use medmij_core::requirement::{Coverage, Requirement, REGISTRY};
use medmij_core::Profile;
use serde_json::json;

/// Arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    profile: ProfileArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// List the refusal codes instead (what the gateway and `verify` log, keyed by requirement
    /// and code; `--format md` is the generated part of docs/troubleshooting.md).
    #[arg(long)]
    refusals: bool,
}

/// Runs the command.
pub(crate) fn run(args: Args) -> anyhow::Result<u8> {
    let profile = args.profile.load()?;
    if args.refusals {
        crate::output::write(&match args.format {
            Format::Md => medmij_lint::docs::refusals_markdown(),
            _ => medmij_lint::docs::refusals_text(),
        });
        return Ok(0);
    }
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&to_json(&profile))? + "\n",
        Format::Md => markdown(&profile),
        Format::Text => text(&profile),
    };
    crate::output::write(&out);
    Ok(0)
}

fn applies(r: &Requirement, p: &Profile) -> bool {
    r.profiles.contains(&p.id.as_str())
        || !medmij_core::profile::BUILTIN.iter().any(|b| b.0 == p.id)
}

fn deviations<'a>(r: &Requirement, p: &'a Profile) -> Vec<&'a medmij_core::profile::Deviation> {
    p.deviations
        .iter()
        .filter(|d| d.requirement.0 == r.id)
        .collect()
}

fn coverage(c: &Coverage) -> serde_json::Value {
    json!({ "how": c.how, "by": c.by, "status": c.status })
}

fn to_json(p: &Profile) -> serde_json::Value {
    let reqs: Vec<_> = REGISTRY
        .iter()
        .filter(|r| applies(r, p))
        .map(|r| {
            json!({
                "id": r.id,
                "title": r.title,
                "summary": r.summary,
                "level": r.obligation,
                "citation": { "document": r.citation.document, "section": r.citation.section },
                "roles": r.roles,
                "profiles": r.profiles,
                "enforced": coverage(&r.enforced),
                "verified": coverage(&r.verified),
                "deviations": deviations(r, p).iter().map(|d| json!({ "items": d.items, "reason": d.reason })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "schema": "medmij-tls/requirements/1",
        "profile": { "id": p.id, "title": p.title, "ncsc": p.ncsc },
        "requirements": reqs,
    })
}

fn status(c: &Coverage) -> String {
    serde_json::to_value(c.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn text(p: &Profile) -> String {
    let mut s = format!("Profile {} ({}; NCSC {})\n\n", p.id, p.title, p.ncsc);
    for r in REGISTRY.iter().filter(|r| applies(r, p)) {
        s.push_str(&format!(
            "{:<18} {:<6} {}\n",
            r.id,
            r.obligation.label(),
            r.title
        ));
        s.push_str(&format!(
            "{:18} roles:    {}\n",
            "",
            r.roles
                .iter()
                .map(|x| x.label())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        s.push_str(&format!(
            "{:18} enforced: [{}] {} ({})\n",
            "",
            status(&r.enforced),
            r.enforced.how,
            r.enforced.by
        ));
        s.push_str(&format!(
            "{:18} verified: [{}] {} ({})\n",
            "",
            status(&r.verified),
            r.verified.how,
            r.verified.by
        ));
        for d in deviations(r, p) {
            s.push_str(&format!(
                "{:18} deviation: {}: {}\n",
                "",
                d.items
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                d.reason
            ));
        }
        s.push_str(&format!(
            "{:18} source:   {}, {}\n\n",
            "", r.citation.document, r.citation.section
        ));
    }
    s
}

fn markdown(p: &Profile) -> String {
    let cell = |t: &str| t.replace('|', "\\|");
    let mut s = format!(
        "# Traceability matrix: {}\n\n{} (NCSC {}).\n\n<!-- Generated from the requirement and check registries by `medmij-tls requirements --format md`; do not edit (a test fails when docs/requirements.md is stale). -->\n\n",
        p.id, p.title, p.ncsc
    );
    s.push_str("| ID | Level | Title | Roles | Enforced | Verified | Citation |\n|---|---|---|---|---|---|---|\n");
    for r in REGISTRY.iter().filter(|r| applies(r, p)) {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} ({}; {}) | {} ({}; {}) | {}, {} |\n",
            r.id,
            r.obligation.label(),
            cell(r.title),
            r.roles
                .iter()
                .map(|x| x.label())
                .collect::<Vec<_>>()
                .join(", "),
            cell(r.enforced.how),
            r.enforced.by,
            status(&r.enforced),
            cell(r.verified.how),
            r.verified.by,
            status(&r.verified),
            cell(r.citation.document),
            cell(r.citation.section)
        ));
    }
    s.push_str("\n## Checks per requirement\n\nEvery automated check of the registry, where it runs (`lint --explain CHECK` says more).\n");
    for r in REGISTRY.iter().filter(|r| applies(r, p)) {
        let checks: Vec<_> = medmij_core::checks::CHECKS
            .iter()
            .filter(|c| c.requirement == r.id)
            .collect();
        if checks.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "\n### `{}` {}\n\n| check | runs in | what passes |\n|---|---|---|\n",
            r.id,
            cell(r.title)
        ));
        for c in checks {
            let stages: Vec<String> = c
                .stages
                .iter()
                .map(|st| {
                    serde_json::to_value(st)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                })
                .collect();
            s.push_str(&format!(
                "| `{}` | {} | {} |\n",
                c.name,
                stages.join(", "),
                cell(c.title)
            ));
        }
    }
    if !p.deviations.is_empty() {
        s.push_str("\n## Deviations (core.tls.302)\n\n");
        for d in &p.deviations {
            s.push_str(&format!(
                "- `{}` {}: {}\n",
                d.requirement.0,
                d.items
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                d.reason
            ));
        }
    }
    s
}
