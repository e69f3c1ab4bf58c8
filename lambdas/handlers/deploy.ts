// Placeholder so the CDK stack can bundle every entry while the handler is being written;
// replaced by the real handler before this lands.
export const handler = async (): Promise<never> => {
  throw new Error('deploy: not implemented yet');
};
