// The CRI conformance suite as a library: run it in-process (tests) or from main.ts.
export { allCases } from './cases';
export { runConformance, type ConformanceOptions, type ConformanceReport } from './conformance';
export { CheckFailed, SkipCase, check, skip } from './errors';
export { Fixture, imagesFromPrefix, type ConformanceImages } from './fixture';
export { junitXml } from './junit';
export { formatResult, runCase, summarize, summaryLine, type CaseResult, type ConformanceCase } from './suite';
