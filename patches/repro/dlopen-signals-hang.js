// Reproduces the event-loop hang that the bun-v1.3.14 series' dlopen repair fixes,
// with the series' fixture library instead of a Go library:
//
//   cc -shared -fPIC -o /tmp/fixture.so test/js/node/process/dlopen-signals-fixture.c
//   timeout 15 bun patches/repro/dlopen-signals-hang.js /tmp/fixture.so
//
// Stock Bun 1.3.14 never prints "alive" (JSC's thread suspend signal now runs on the
// alternate signal stack and Thread::suspend() retries forever); with the repair, or on
// Bun 1.4.x, it does.
process.dlopen({ exports: {} }, process.argv[2]);

// (module (func (export "f") (result i32) (local i32)
//   (loop (br_if 0 (i32.lt_s (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (i32.const 1000000))))
//   (local.get 0)))
const bytes = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 25, 1, 23, 1, 1, 127, 3,
  64, 32, 0, 65, 1, 106, 34, 0, 65, 192, 132, 61, 72, 13, 0, 11, 32, 0, 11,
]);
const start = performance.now();
for (let i = 0; i < 20; i++) {
  new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f();
  Bun.gc(true);
}
setTimeout(() => console.log("alive after", Math.round(performance.now() - start), "ms"), 10);
