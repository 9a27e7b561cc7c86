//! Which stages of a Dockerfile an image build needs, and how they are named: the shipped
//! target, and each named stage it depends on (built on its own with `--target`, so its layers
//! get a cache of their own), or the stages `cache_stages` lists.

use super::ImageConfig;
use crate::error::{self, Error};
use crate::input::dockerfile::Dockerfile;

pub(crate) fn resolve_target(config: &ImageConfig, df: &Dockerfile) -> Result<usize, Error> {
    let Some(name) = &config.target else {
        return Ok(df.stages.len().saturating_sub(1));
    };
    df.find_stage(name).ok_or_else(|| {
        config.target_place.error(
            &format!(
                "target `{name}` is not a stage of {}",
                config.dockerfile.display()
            ),
            &format!("stages are: {}", stage_list(df)),
        )
    })
}

pub(crate) fn stage_list(df: &Dockerfile) -> String {
    df.stages
        .iter()
        .map(|s| df.stages[s.index].label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The stages to build, in order, the target last.
pub(crate) fn stages_to_build(
    config: &ImageConfig,
    df: &Dockerfile,
    target: usize,
    path: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<usize>, Error> {
    let needed = df.stages_for_target(target);
    let mut chosen: Vec<usize> = match &config.cache_stages {
        Some(names) => names
            .iter()
            .map(|n| chosen_stage(config, df, &needed, n))
            .collect::<Result<_, _>>()?,
        None => needed
            .iter()
            .copied()
            .filter(|&i| i != target && df.stages[i].name.is_some())
            .collect(),
    };
    if config.cache_stages.is_none() {
        for &i in needed
            .iter()
            .filter(|&&i| i != target && df.stages[i].name.is_none())
        {
            let s = &df.stages[i];
            warnings.push(format!(
                "{path}:{}: stage {i} (FROM {}) has no name, so it cannot be built with --target and its \
                 layers are not cached; name it: FROM {} AS <name>",
                s.line, s.from, s.from
            ));
        }
    }
    chosen.push(target);
    chosen.sort_unstable();
    chosen.dedup();
    Ok(chosen)
}

fn chosen_stage(
    config: &ImageConfig,
    df: &Dockerfile,
    needed: &[usize],
    name: &str,
) -> Result<usize, Error> {
    // Where the name is written: a name listed twice fails the same way both times.
    let written = config
        .cache_stages
        .iter()
        .flatten()
        .position(|n| n == name)
        .and_then(|k| config.cache_stage_places.get(k));
    let place = |msg: String, hint: String| match written {
        Some(at) => at.error(&msg, &hint),
        None => error::at(&config.origin, 0, 0, &msg, &hint),
    };
    let i = df.find_stage(name).ok_or_else(|| {
        place(
            format!(
                "cache_stages names `{name}`, which is not a stage of {}",
                config.dockerfile.display()
            ),
            format!("stages are: {}", stage_list(df)),
        )
    })?;
    if !needed.contains(&i) {
        return Err(place(
            format!("cache_stages names `{name}`, which the target does not need"),
            "remove it from cache_stages, or change target".into(),
        ));
    }
    if df.stages[i].name.is_none() {
        return Err(place(
            format!(
                "cache_stages names stage {i}, which has no name and cannot be built with --target"
            ),
            format!(
                "name it in the Dockerfile: FROM {} AS <name>",
                df.stages[i].from
            ),
        ));
    }
    Ok(i)
}
