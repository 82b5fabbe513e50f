package sdbatch.schemas.util;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Copies of a record with some components changed — its withers' one mechanism, written once (Java
 * records have no copy-with yet: JEP 468). The record declares a mutable mirror, a private static
 * nested class with one non-final field per component, same name and type; a wither then reads
 * {@code return COPIER.copy(this, f -> f.steps = v);}. A copy fills a new mirror from the record's
 * accessors, lets the change set fields, and builds the result through the record's canonical
 * constructor, so its checks and normalizations run for every copy as they do for {@code new}.
 *
 * <p>{@link #of} checks that the mirror matches the record exactly (every component and nothing
 * else, by name and generic type), so a component added to the record and forgotten in the mirror
 * fails when the record's class initializes rather than being silently reset or dropped.
 *
 * @param <R> the record
 * @param <M> its mutable mirror
 */
public final class RecordCopier<R extends Record, M> {
    private final Class<R> recordType;
    private final MethodHandle newMirror; // () -> Object
    private final MethodHandle[] accessors; // (Object record) -> Object, in component order
    private final MethodHandle[] mirrorSetters; // (Object mirror, Object value) -> void
    private final MethodHandle[] mirrorGetters; // (Object mirror) -> Object
    private final MethodHandle canonicalConstructor; // (Object[] components) -> Object

    /**
     * The copier of {@code recordType} through {@code mirrorType}, checked to mirror it.
     *
     * @param lookup {@code MethodHandles.lookup()} called in the record, whose private access
     *     reaches its private mirror class (the copier itself never widens access)
     * @param recordType the record
     * @param mirrorType its mirror: a static class with a no-argument constructor and exactly one
     *     non-static, non-final field per component, of the same name and generic type
     * @throws IllegalArgumentException if the mirror does not match the record, or {@code lookup}
     *     cannot reach the mirror's constructor and fields or the record's canonical constructor
     */
    public static <R extends Record, M> RecordCopier<R, M> of(
            MethodHandles.Lookup lookup, Class<R> recordType, Class<M> mirrorType) {
        RecordComponent[] components = recordType.getRecordComponents();
        if (components == null) {
            // Record's subclasses are records; this guards a raw or unchecked Class argument.
            throw new IllegalArgumentException(recordType.getName() + " is not a record");
        }
        checkMirror(recordType, components, mirrorType);
        try {
            return new RecordCopier<>(lookup, recordType, components, mirrorType);
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException(
                    String.format(
                            "cannot copy %s through %s with the lookup of %s (pass"
                                    + " MethodHandles.lookup() from the record): %s",
                            recordType.getName(),
                            mirrorType.getName(),
                            lookup.lookupClass().getName(),
                            e.getMessage()),
                    e);
        }
    }

    private RecordCopier(
            MethodHandles.Lookup lookup,
            Class<R> recordType,
            RecordComponent[] components,
            Class<M> mirrorType)
            throws ReflectiveOperationException {
        this.recordType = recordType;
        int n = components.length;
        accessors = new MethodHandle[n];
        mirrorSetters = new MethodHandle[n];
        mirrorGetters = new MethodHandle[n];
        Class<?>[] parameterTypes = new Class<?>[n];
        MethodType objectToObject = MethodType.methodType(Object.class, Object.class);
        for (int i = 0; i < n; i++) {
            String name = components[i].getName();
            Class<?> type = components[i].getType();
            parameterTypes[i] = type;
            accessors[i] = lookup.unreflect(components[i].getAccessor()).asType(objectToObject);
            mirrorSetters[i] =
                    lookup.findSetter(mirrorType, name, type)
                            .asType(MethodType.methodType(void.class, Object.class, Object.class));
            mirrorGetters[i] = lookup.findGetter(mirrorType, name, type).asType(objectToObject);
        }
        newMirror =
                lookup.findConstructor(mirrorType, MethodType.methodType(void.class))
                        .asType(MethodType.methodType(Object.class));
        canonicalConstructor =
                lookup.findConstructor(
                                recordType, MethodType.methodType(void.class, parameterTypes))
                        .asType(MethodType.genericMethodType(n))
                        .asSpreader(Object[].class, n);
    }

    /**
     * A copy of {@code record} with {@code change} applied to a mirror of its components, built
     * through the canonical constructor: what it refuses (an {@link IllegalArgumentException}, say)
     * is thrown as it is.
     */
    public R copy(R record, Consumer<? super M> change) {
        try {
            @SuppressWarnings("unchecked") // newMirror makes an M
            M mirror = (M) (Object) newMirror.invokeExact();
            for (int i = 0; i < accessors.length; i++) {
                // invokeExact matches the handles' (Object...) types only through these casts.
                mirrorSetters[i].invokeExact(
                        (Object) mirror, (Object) accessors[i].invokeExact((Object) record));
            }
            change.accept(mirror);
            Object[] components = new Object[mirrorGetters.length];
            for (int i = 0; i < components.length; i++) {
                components[i] = (Object) mirrorGetters[i].invokeExact((Object) mirror);
            }
            return recordType.cast((Object) canonicalConstructor.invokeExact(components));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            // Neither a canonical constructor nor an accessor may declare a checked exception.
            throw new UndeclaredThrowableException(t);
        }
    }

    /** Throws unless {@code mirrorType}'s instance fields are exactly the components. */
    private static void checkMirror(
            Class<?> recordType, RecordComponent[] components, Class<?> mirrorType) {
        Map<String, Type> expected = new LinkedHashMap<>();
        for (RecordComponent c : components) {
            expected.put(c.getName(), c.getGenericType());
        }
        List<String> problems = new ArrayList<>();
        if (mirrorType.getEnclosingClass() != null
                && !Modifier.isStatic(mirrorType.getModifiers())) {
            problems.add("it is an inner class (make it static)");
        }
        for (Field f : mirrorType.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
                continue;
            }
            Type type = expected.remove(f.getName());
            if (type == null) {
                problems.add("field " + f.getName() + " is no component");
            } else if (!type.equals(f.getGenericType())) {
                problems.add(
                        String.format(
                                "field %s is %s, the component %s",
                                f.getName(), f.getGenericType().getTypeName(), type.getTypeName()));
            } else if (Modifier.isFinal(f.getModifiers())) {
                problems.add("field " + f.getName() + " is final");
            }
        }
        expected.forEach(
                (name, type) ->
                        problems.add(
                                String.format(
                                        "component %s (%s) has no field",
                                        name, type.getTypeName())));
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    String.format(
                            "%s does not mirror record %s: %s",
                            mirrorType.getName(),
                            recordType.getName(),
                            String.join("; ", problems)));
        }
    }
}
