// Stand-in for the npm package detect-libc, which test/js/node/process/process.test.js
// imports (its familySync() is used only by cases that ../test.sh does not run).
exports.GLIBC = "glibc";
exports.MUSL = "musl";
exports.familySync = () => (process.report?.getReport?.()?.header?.glibcVersionRuntime ? "glibc" : "musl");
