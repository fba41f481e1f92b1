//! Times the price screens over a market CSV and writes every tender's figures for the comparison
//! with the numpy/scipy reference (`reference.py`). Built by `run.sh` as a throwaway crate with a path
//! dependency on `sealbid-screen` (no manifest of the workspace names it).
//!
//! Usage: screen_market MARKET.csv OUT.csv [REPEATS]
//! Prints one JSON object with the timings (seconds; best and median of REPEATS runs) on stdout.
use std::io::Write;
use std::time::Instant;

use sealbid_screen::engine::{self, Options};
use sealbid_screen::{screen_market, screen_tender, Indicator, Settings, TenderScreens};

fn timed<T>(repeats: usize, mut f: impl FnMut() -> T) -> (T, f64, f64) {
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let out = f();
        times.push(t.elapsed().as_secs_f64());
        last = Some(out);
    }
    times.sort_by(f64::total_cmp);
    let best = times[0];
    let median = times[times.len() / 2];
    (last.expect("at least one run"), best, median)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: screen_market MARKET.csv OUT.csv [REPEATS]".into());
    };
    let repeats: usize = args.get(3).map_or(Ok(5), |r| r.parse())?;

    let t = Instant::now();
    let data = std::fs::read(input)?;
    let tenders = sealbid_screen::read_csv(data.as_slice())?.strict()?;
    let read = t.elapsed().as_secs_f64();
    let bids: usize = tenders.iter().map(|t| t.bids.len()).sum();

    let (screens, par_best, par_median) = timed(repeats, || screen_market(&tenders));
    let (serial, ser_best, ser_median) = timed(repeats, || {
        tenders.iter().map(screen_tender).collect::<Vec<_>>()
    });
    assert_eq!(screens, serial, "parallel and serial screens agree");
    let settings = Settings::default();
    let (results, eng_best, eng_median) = timed(repeats, || {
        engine::screen_with(
            &tenders,
            &settings,
            Options {
                charts: false,
                classify: true,
            },
            |_, _| {},
        )
    });
    let alerts: usize = results.iter().map(|r| r.alerts.len()).sum();

    let mut out = std::io::BufWriter::new(std::fs::File::create(output)?);
    write!(out, "tender")?;
    for i in Indicator::ALL {
        write!(out, ",{}", i.name())?;
    }
    writeln!(out)?;
    for s in &screens {
        write_row(&mut out, s)?;
    }
    out.flush()?;

    println!(
        "{{\"tenders\": {}, \"bids\": {bids}, \"threads\": {}, \"read_csv_s\": {read:.6}, \
         \"screens_parallel_best_s\": {par_best:.6}, \"screens_parallel_median_s\": {par_median:.6}, \
         \"screens_serial_best_s\": {ser_best:.6}, \"screens_serial_median_s\": {ser_median:.6}, \
         \"engine_best_s\": {eng_best:.6}, \"engine_median_s\": {eng_median:.6}, \"alerts\": {alerts}, \
         \"repeats\": {repeats}}}",
        tenders.len(),
        rayon_threads(),
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn write_row(out: &mut impl Write, s: &TenderScreens) -> std::io::Result<()> {
    write!(out, "{}", s.tender)?;
    for i in Indicator::ALL {
        match s.get(i) {
            // `{:?}` prints the shortest text that reads back to the same double.
            Some(v) => write!(out, ",{v:?}")?,
            None => write!(out, ",")?,
        }
    }
    writeln!(out)
}
