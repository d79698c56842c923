export { annotationProblems } from './annotationProblems';
