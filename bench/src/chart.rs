//! The SVG chart of scenarios 2 and 3: wake-up latency and memory per
//! waiting agent against the number of agents.

use std::path::Path;

use plotters::prelude::*;

use crate::scenarios::WaitRun;
use crate::stats::spread;

const TARGET: RGBColor = RGBColor(230, 120, 0);

/// Wake-up latency and memory per waiting agent against the number of agents.
pub fn chart(path: &Path, waiting: &[(usize, Vec<WaitRun>)]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (left, right) = root.split_horizontally(500);
    let max_n = waiting.iter().map(|(n, _)| *n).max().unwrap_or(1) as f64 * 1.05;
    let series = |f: &dyn Fn(&WaitRun) -> f64| -> Vec<(f64, f64)> {
        waiting.iter().map(|(n, runs)| (*n as f64, spread(runs, f).median)).collect()
    };
    let p50 = series(&|w| w.wake(0.5) / 1000.0);
    let p99 = series(&|w| w.wake(0.99) / 1000.0);
    let kib = series(&|w| w.kib_per_agent());
    let top = |points: &[(f64, f64)], target: f64| {
        points.iter().map(|p| p.1).filter(|v| v.is_finite()).fold(target, f64::max) * 1.2
    };

    let mut latency = ChartBuilder::on(&left)
        .caption("Wake-up latency (forced sign-out → poll answer)", ("sans-serif", 16))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..max_n, 0f64..top(&p99, 1.0))
        .map_err(|e| err(&e))?;
    latency
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("waiting agents")
        .y_desc("ms")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    latency
        .draw_series(DashedLineSeries::new([(0.0, 1.0), (max_n, 1.0)], 8, 5, TARGET.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("target: p99 ≤ 1 ms")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TARGET.stroke_width(2)));
    latency
        .draw_series(LineSeries::new(p99.clone(), RED.stroke_width(2)).point_size(3))
        .map_err(|e| err(&e))?
        .label("p99")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
    latency
        .draw_series(LineSeries::new(p50.clone(), BLUE.stroke_width(2)).point_size(3))
        .map_err(|e| err(&e))?
        .label("p50")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE));
    latency
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| err(&e))?;

    let mut memory = ChartBuilder::on(&right)
        .caption("RSS per waiting agent (TLS connection + poll + session)", ("sans-serif", 16))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..max_n, 0f64..top(&kib, 12.0))
        .map_err(|e| err(&e))?;
    memory
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("waiting agents")
        .y_desc("KiB per agent")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    memory
        .draw_series(DashedLineSeries::new([(0.0, 12.0), (max_n, 12.0)], 8, 5, TARGET.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("target: ≤ 12 KiB")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TARGET.stroke_width(2)));
    memory
        .draw_series(LineSeries::new(kib.clone(), RGBColor(0, 140, 60).stroke_width(2)).point_size(3))
        .map_err(|e| err(&e))?
        .label("KiB per waiting agent")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RGBColor(0, 140, 60)));
    memory
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
