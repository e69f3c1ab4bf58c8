/**
 * aws-local-stepfunctions uses Promise.withResolvers (Node 22+). These machines run Node 20,
 * so the embedded runtime and the tests install this before loading it.
 */
type Resolvers<T> = {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/**
 * The AWS SDK prints a multi-line notice on Node < 22 (its releases after January 2027 need 22)
 * from every process that makes a client: every CLI command, trainer child and test worker. The
 * deployed Lambdas run on Node 22, and the README states the local requirement once, so the
 * embedded default silences it unless the user chose otherwise.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
