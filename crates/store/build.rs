// The default configuration is embedded in the binary (so `yingshang` runs from anywhere);
// rebuild when it changes.
fn main() {
    println!("cargo:rerun-if-changed=../../config");
    println!("cargo:rerun-if-changed=migrations");
}
