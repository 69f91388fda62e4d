//! The names and contents of `shipcheck sim --synthesize` (src/sim/synth.rs),
//! and the manifest bench/synth_manifest.py writes for such a fleet.

/// The synthesized instance `n`.
pub fn instance_id(n: u64) -> String {
    format!("i-sim{n:015}")
}

/// Every synthesized file `0..files` on instances `0..instances`, through
/// one instance set, in sync with the simulator's deliveries.
pub fn manifest(instances: u64, files: u64) -> String {
    let mut yaml = String::from(
        "version: 1\ndefaults:\n  region: cn-hangzhou\n  mode: \"0644\"\n  owner: root\n  \
         group: root\n  overwrite: true\ninstance_sets:\n  fleet:\n",
    );
    for n in 0..instances {
        yaml.push_str(&format!("    - {}\n", instance_id(n)));
    }
    yaml.push_str("files:\n");
    for k in 0..files {
        let content =
            serde_json::to_string(&format!("# synthetic file {k}\nkey = value-{k}\n")).unwrap();
        yaml.push_str(&format!(
            "  - name: app-{k:02}.conf\n    target_dir: /etc/shipcheck\n    content: {content}\n    \
             instances: [fleet]\n"
        ));
    }
    yaml
}
