//! The library's modules form a DAG: data flows one way (article → source text → summary →
//! key points → scores → records → report), so no module uses one that uses it back.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its non-test code names as `crate::x`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            // unit-test files (`tests.rs` of a folder module) are not library code
            if p.extension().is_none_or(|x| x != "rs")
                || p.file_name().is_some_and(|n| n == "tests.rs")
            {
                continue;
            }
            let rel = p.strip_prefix(&src).unwrap();
            let top = rel.components().next().unwrap().as_os_str().to_string_lossy();
            let module = top.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // unit tests sit at the end of a file, after `#[cfg(test)]`
            let code = text.split("#[cfg(test)]").next().unwrap();
            let deps = graph.entry(module.clone()).or_default();
            for line in code.lines().map(str::trim_start).filter(|l| !l.starts_with("//")) {
                for part in line.split("crate::").skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module && name != "VERSION" {
                        deps.insert(name);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn library_modules_have_no_import_cycles() {
    let graph = module_graph();
    assert!(graph.len() > 15, "expected the library's modules, found {:?}", graph.keys());
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut cycle = path[i..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle between library modules: {}", cycle.join(" → "));
        }
    }
}
