// Element types the engine understands, and how they map to ONNX and to JS typed arrays.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : D extends 'int8'
          ? Int8Array
          : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

const ONNX_CODE: Record<DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function onnxDataType(d: DType): number {
  return ONNX_CODE[d];
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

export function dtypeOfArray(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
  return 'bool'; // Uint8Array: uint8 tensors are only made by name (quantized activations)
}
