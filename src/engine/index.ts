// The compute engine: build ONNX graphs, differentiate them, run them on onnxruntime-node.
export { Graph, Value, attr, OPSET } from './graph.js';
export type { Attr, Node, InputOptions } from './graph.js';
export * as op from './ops.js';
export { grad, GradientError } from './autodiff.js';
export { compile, Session, defaultThreads, float32, toNumbers } from './runtime.js';
export type { Feed, HostTensor, SessionOptions } from './runtime.js';
export type { DType } from './dtype.js';
export { ShapeError, formatShape } from './shape.js';
export type { Dim, Shape } from './shape.js';
