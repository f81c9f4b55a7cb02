/**
 * Refuses a mutation or subscription when the schema has none, at validation (400,
 * GRAPHQL_VALIDATION_FAILED). graphql-js 16 only finds out at execution, with an error that
 * carries no code (graphql-js 17 adds this rule as KnownOperationTypesRule).
 */
import { GraphQLError, type ValidationRule } from 'graphql';

export const knownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    const schema = context.getSchema();
    const root = node.operation === 'query' ? schema.getQueryType() : node.operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
    const served = schema.getSubscriptionType() ? 'queries and subscriptions' : 'queries';
    if (!root) context.reportError(new GraphQLError(`This API has no ${node.operation}s: only ${served}.`, { nodes: node }));
  },
});
