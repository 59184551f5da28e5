//! `medmij-tls demo`: the built-in demo network, end to end (see `medmij_demo`).

use std::path::PathBuf;

/// Arguments.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Where the PKI, the gateways' configurations and the reports go (emptied first when an
    /// earlier demo made it; any other non-empty directory is refused).
    #[arg(long, value_name = "DIR", default_value = "medmij-demo")]
    out: PathBuf,
}

pub(crate) fn run(a: Args) -> anyhow::Result<u8> {
    let report = medmij_demo::run(&a.out, &mut |line| {
        crate::output::write(&format!("demo: {}\n", crate::output::esc(line)))
    })?;
    crate::output::write("\n");
    crate::output::write(&crate::output::esc_lines(&report.summary()));
    let unexpected = report.unexpected();
    if unexpected.is_empty() {
        crate::output::write(&format!(
            "demo: done in {:.1} s; everything it started is stopped\n",
            report.duration_ms as f64 / 1000.0
        ));
        Ok(0)
    } else {
        for u in &unexpected {
            eprintln!(
                "medmij-tls: demo: not as designed: {}",
                crate::output::esc(u)
            );
        }
        Ok(1)
    }
}
