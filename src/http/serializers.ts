import { SerializerSelector, type Serializer, type SerializerFactory } from '@fastify/fast-json-stringify-compiler'

/**
 * Fastify's own response serializer compiler (fast-json-stringify), keeping
 * what it compiled per schema object for the life of the process. Compiling
 * generates code and is the most expensive part of building an app; route
 * schemas are module constants, so every app built in one process (the
 * service, its health-only listener, an app per test) compiles each once.
 * A serializer depends only on its schema and on the shared schemas the app
 * registered (by `$id`, module constants too), so those ids are part of the key.
 */
const compiled = new WeakMap<object, Map<string, Serializer>>()

export const buildCachedSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = SerializerSelector()(externalSchemas, options)
  const shared = Object.keys(externalSchemas ?? {}).sort().join(' ')
  return (route) => {
    const schema = route.schema
    if (typeof schema !== 'object' || schema === null) return compile(route)
    let byShared = compiled.get(schema)
    if (!byShared) compiled.set(schema, byShared = new Map())
    let serialize = byShared.get(shared)
    if (!serialize) byShared.set(shared, serialize = compile(route))
    return serialize
  }
}
