// asl-validator ships no type declarations; this is the part of its API the tests use.
declare module "asl-validator" {
  interface AslValidationError {
    "Error code": string;
    Message: string;
  }
  interface AslValidationOptions {
    checkPaths: boolean;
    checkArn: boolean;
  }
  function validator(
    definition: unknown,
    options?: AslValidationOptions,
  ): { isValid: boolean; errors: AslValidationError[]; errorsText(separator?: string): string };
  export = validator;
}
