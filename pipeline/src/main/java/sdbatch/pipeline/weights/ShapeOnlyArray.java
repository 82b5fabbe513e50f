package sdbatch.pipeline.weights;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrayAdapter;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

/**
 * An array that has a shape and a dtype but no data, like torch's {@code meta} device: what {@link
 * StateDictWeights#checkShapes} hands a model constructor so that the constructor can run, and say
 * every parameter it wants, without a byte of native memory. It supports only the operations that
 * model constructors perform on parameters to make views of them ({@code reshape}, {@code toType},
 * {@code toDevice}, {@code attach}); anything that would need values throws {@link
 * UnsupportedOperationException}.
 */
final class ShapeOnlyArray extends NDArrayAdapter {

    ShapeOnlyArray(NDManager manager, Shape shape, DataType dataType) {
        // No alternative manager: an operation needing values fails instead of computing.
        super(manager, null, shape, dataType, "shape-only-" + UUID.randomUUID());
        manager.attachInternal(getUid(), this);
    }

    @Override
    public NDArray reshape(Shape newShape) {
        long[] dims = newShape.getShape();
        long known = 1;
        int inferred = -1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1 && inferred < 0) {
                inferred = i;
            } else {
                known = Math.multiplyExact(known, dims[i]);
            }
        }
        long size = getShape().size();
        if (inferred >= 0) {
            dims = dims.clone();
            dims[inferred] = known == 0 ? 0 : size / known;
            known = Math.multiplyExact(known, dims[inferred]);
        }
        if (known != size) {
            throw new IllegalArgumentException(
                    "cannot reshape " + getShape() + " into " + newShape);
        }
        return new ShapeOnlyArray(getManager(), new Shape(dims), getDataType());
    }

    @Override
    public NDArray toType(DataType dtype, boolean copy) {
        return dtype == getDataType() && !copy
                ? this
                : new ShapeOnlyArray(getManager(), getShape(), dtype);
    }

    @Override
    public NDArray toDevice(Device device, boolean copy) {
        return copy ? duplicate() : this;
    }

    @Override
    public NDArray duplicate() {
        return new ShapeOnlyArray(getManager(), getShape(), getDataType());
    }

    @Override
    public void detach() {
        getManager().detachInternal(getUid());
    }

    @Override
    public void intern(NDArray replaced) {
        throw new UnsupportedOperationException("a shape-only array holds no data: " + this);
    }

    @Override
    public ByteBuffer toByteBuffer(boolean tryDirect) {
        throw new UnsupportedOperationException("a shape-only array holds no data: " + this);
    }

    @Override
    public List<NDArray> getResourceNDArrays() {
        return List.of(this);
    }

    @Override
    public String toString() {
        return "ShapeOnlyArray" + getShape() + " " + getDataType();
    }
}
